// DSQFakeQuantize: Differentiable Soft Quantization (MQBench spec §4.7). Inside the
// range each unit interval is replaced by a scaled tanh, whose value is rounded
// (straight-through) in the forward pass, so the gradient is the tanh's slope.
// Scale and zero point come from the observer and are not learned. The ops are
// the ones MQBench composes, so float32 results match it bit for bit.
#include <cmath>

#include "mqb/fake_quant_kernels.h"
#include "mqb/fake_quantize_base.h"
#include "mqb/plugin.h"

namespace {

class DSQFakeQuantize final : public mqb::FakeQuantizeBase {
 public:
  explicit DSQFakeQuantize(const mqb::QuantizerArgs& args) : FakeQuantizeBase(args, "DSQFakeQuantize") {
    const auto& p = args.params;
    alpha_ = p.real("alpha", 0.4);
    mqbench_compat_ = p.boolean("mqbench_compat", false);
    p.require(alpha_ > 0.0 && alpha_ < 1.0, "alpha", "a number in (0, 1)");
    p.reject_unknown("DSQFakeQuantize");
    tanh_scale_ = 1.0 / (1.0 - alpha_);
    tanh_k_ = std::log((tanh_scale_ + 1.0) / (tanh_scale_ - 1.0));
  }

  at::Tensor forward(const at::Tensor& input) override {
    check_input(input);
    // MQBench observes whenever the module is training, ignoring observer_enabled
    // (spec §8 item 24); by default we honour the switch.
    const bool observe = mqbench_compat_ ? training_ : observer_enabled_;
    if (observe) observe_and_update(input);
    if (!fake_quant_enabled_) return input;
    at::Tensor s = scale_, z = zero_point_;
    if (scheme_.per_channel) {
      const auto shape = mqb::channel_view_shape(input, axis());
      s = s.reshape(shape);
      z = z.reshape(shape);
    }
    const double qmin = static_cast<double>(scheme_.quant_min()), qmax = static_cast<double>(scheme_.quant_max());
    at::Tensor x = input.div(s).add(z).clamp(qmin, qmax);
    const at::Tensor fl = x.floor();
    x = fl.add(x.sub(fl).sub(0.5).mul(tanh_k_).tanh().mul(tanh_scale_).mul(0.5)).add(0.5);
    x = x.round().sub(x).detach().add(x);
    return x.sub(z).mul(s);
  }

 private:
  double alpha_ = 0.4, tanh_scale_ = 0.0, tanh_k_ = 0.0;
  bool mqbench_compat_ = false;
};

}  // namespace

MQB_QUANTIZER_PLUGIN(DSQFakeQuantize, "Differentiable Soft Quantization (tanh-shaped soft rounding)", DSQFakeQuantize)
