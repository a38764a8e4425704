// FakeQuantizeBase: what MQBench's QuantizeBase gives every quantizer: the owned
// observer, the scheme, the two switches (kept as uint8 tensors, as MQBench's
// buffers), scale / zero_point buffers refreshed from the observer, training mode
// and uniform state save/load. Quantizers implement forward().
#pragma once
#include <functional>

#include "mqb/fake_quantize.h"
#include "mqb/qparams_math.h"

namespace mqb {

class MQB_API FakeQuantizeBase : public FakeQuantize {
 public:
  FakeQuantizeBase(const QuantizerArgs& args, std::string class_name);
  FakeQuantizeBase(const FakeQuantizeBase&) = delete;
  FakeQuantizeBase& operator=(const FakeQuantizeBase&) = delete;

  // Copies: scale_ / zero_point_ are updated in place by later calls.
  QParams qparams() const override { return {scale_.detach().clone(), zero_point_.detach().clone()}; }
  StateDict state() const override;
  void load_state(const StateDict& state) override;

  void set_observer_enabled(bool on) override { observer_enabled_ = on; }
  void set_fake_quant_enabled(bool on) override { fake_quant_enabled_ = on; }
  bool observer_enabled() const override { return observer_enabled_; }
  bool fake_quant_enabled() const override { return fake_quant_enabled_; }
  void set_training(bool training) override { training_ = training; }
  bool training() const override { return training_; }

  Observer& observer() override { return *observer_; }
  const Observer& observer() const override { return *observer_; }
  const QScheme& qscheme() const override { return scheme_; }
  const std::string& class_name() const { return class_name_; }

 protected:
  // Feeds x (detached) to the observer and copies its qparams into scale_/zero_point_
  // (in place, keeping each member's dtype and, for learnable ones, its identity).
  void observe_and_update(const at::Tensor& x);
  // LSQ's rule for a learned scale: observer on -> observe_and_update(x); observer
  // off -> scale_ = max(|scale_|, eps) in place (a step that made it <= 0 is undone).
  void observe_or_sanitise_scale(const at::Tensor& x);
  // dst := src without breaking an optimizer's hold on dst: same element count -> copy_
  // (dst keeps its shape) under no-grad; otherwise the data is swapped (set_data) for leaves that require grad, or
  // the tensor replaced. src is converted to dst's dtype when dst is defined.
  static void assign(at::Tensor& dst, const at::Tensor& src);
  // A new learnable leaf (float32, requires_grad) holding `values`.
  static at::Tensor make_parameter(const at::Tensor& values);
  // DataError naming the class unless x is a usable input (float, channel axis present).
  void check_input(const at::Tensor& x) const;
  int64_t axis() const { return scheme_.per_channel ? scheme_.ch_axis : -1; }
  // Registers one more state tensor under `key` (parameters included).
  void register_state(const std::string& key, at::Tensor* member);
  // MQBench's QuantizeBase.bitwidth = int(log2(qmax - qmin + 1)).
  int bitwidth() const;

  QScheme scheme_;
  std::shared_ptr<Observer> observer_;
  at::Tensor scale_;       // float32 [1] or [C]
  at::Tensor zero_point_;  // int32 [1] or [C] (float where the quantizer learns it)
  bool observer_enabled_ = true;
  bool fake_quant_enabled_ = true;
  bool training_ = true;

 private:
  std::vector<std::pair<std::string, at::Tensor*>> entries_;
  std::string class_name_;
};

}  // namespace mqb
