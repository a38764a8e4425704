// The README's example observer: running min/max scaled by a factor.
#include <ATen/ops/isfinite.h>
#include <ATen/ops/maximum.h>
#include <ATen/ops/minimum.h>
#include "mqb/observer_base.h"   // min/max state, qparams (MQBench's exact math), save/load
#include "mqb/plugin.h"          // the entry-point macros

class HalfRangeObserver final : public mqb::ObserverBase {
 public:
  explicit HalfRangeObserver(const mqb::ObserverArgs& a) : ObserverBase(a, "HalfRangeObserver") {
    shrink_ = a.params.real("shrink", 0.5);            // from *_observer_extra_args
    a.params.require(shrink_ > 0 && shrink_ <= 1, "shrink", "a number in (0, 1]");
    a.params.reject_unknown("HalfRangeObserver");      // unknown keys: error with file:line
  }
  void observe(const at::Tensor& x) override {
    auto in = prepare_input(x);                        // float32, contiguous; empty -> ignored
    if (!in) return;
    if (!at::isfinite(*in).all().item<bool>())         // NaN/Inf: refuse, keep the state
      throw mqb::DataError("HalfRangeObserver: the batch holds NaN or Inf values");
    auto [lo, hi] = mqb::tensor_minmax(*in, scheme_.per_channel ? scheme_.ch_axis : -1);
    min_val_ = at::minimum(min_val_, lo.mul(shrink_));
    max_val_ = at::maximum(max_val_, hi.mul(shrink_));
  }
 private:
  double shrink_;
};

MQB_OBSERVER_PLUGIN(HalfRangeObserver, "Running min/max scaled by a factor", HalfRangeObserver)
