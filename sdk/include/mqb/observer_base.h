// ObserverBase: the state every MQBench observer shares (min_val / max_val buffers,
// the scheme, eps) and save/load of that state plus whatever tensors a subclass
// registers. Subclasses implement observe() and, where they differ, calculate_qparams().
#pragma once
#include <functional>

#include "mqb/observer.h"
#include "mqb/qparams_math.h"

namespace mqb {

class MQB_API ObserverBase : public Observer {
 public:
  ObserverBase(const ObserverArgs& args, std::string class_name);
  ObserverBase(const ObserverBase&) = delete;
  ObserverBase& operator=(const ObserverBase&) = delete;

  // §0.4 on (min_val, max_val), then pot rounding if the scheme asks for it.
  QParams calculate_qparams() override;

  at::Tensor min_val() const override { return min_val_; }
  at::Tensor max_val() const override { return max_val_; }
  void set_range(const at::Tensor& min_val, const at::Tensor& max_val) override;

  StateDict state() const override;
  void load_state(const StateDict& state) override;
  void reset() override;

  const QScheme& qscheme() const override { return scheme_; }
  const std::string& class_name() const { return class_name_; }

 protected:
  // Registers one more tensor of state (by pointer to the member) under `key`,
  // with the value reset() restores.
  void register_state(const std::string& key, at::Tensor* member, std::function<at::Tensor()> initial);
  // True once the observer has seen data (max_val no longer the initial -inf scalar).
  bool has_data() const;
  // float32, contiguous, detached view of the batch; nullopt for empty tensors.
  std::optional<at::Tensor> prepare_input(const at::Tensor& x) const;
  // The axis statistics are reduced over: ch_axis when per-channel, else -1.
  int stat_axis() const { return scheme_.per_channel ? scheme_.ch_axis : -1; }
  // Running extrema (MinMaxObserver): min_val = min(min_val, lo), max_val = max(max_val, hi).
  void accumulate_running(const at::Tensor& lo, const at::Tensor& hi);
  // MQBench's EMA: the first batch is stored, later ones averaged with `ratio`.
  void accumulate_ema(const at::Tensor& lo, const at::Tensor& hi, double ratio);

  QScheme scheme_;
  at::Tensor min_val_;
  at::Tensor max_val_;

 private:
  struct Entry {
    std::string key;
    at::Tensor* member;
    std::function<at::Tensor()> initial;
  };
  std::vector<Entry> entries_;
  std::string class_name_;
};

}  // namespace mqb
