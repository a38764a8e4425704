// MinMaxObserver: running extrema over every batch (MQBench spec §3.2).
#include <ATen/ops/maximum.h>
#include <ATen/ops/minimum.h>

#include "mqb/observer_base.h"
#include "mqb/plugin.h"

namespace {

class MinMaxObserver final : public mqb::ObserverBase {
 public:
  explicit MinMaxObserver(const mqb::ObserverArgs& args) : ObserverBase(args, "MinMaxObserver") {
    args.params.reject_unknown("MinMaxObserver");
  }

  void observe(const at::Tensor& x) override {
    auto input = prepare_input(x);
    if (!input) return;
    auto [lo, hi] = mqb::tensor_minmax(*input, scheme_.per_channel ? scheme_.ch_axis : -1);
    min_val_ = at::minimum(min_val_, lo);
    max_val_ = at::maximum(max_val_, hi);
  }
};

}  // namespace

MQB_OBSERVER_PLUGIN(MinMaxObserver, "Running minimum and maximum over all calibration batches", MinMaxObserver)
