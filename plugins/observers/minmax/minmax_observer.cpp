// MinMaxObserver: running extrema over every batch (MQBench spec §3.2), one pass
// over the data in its natural layout (mqb::channel_stats).
#include "mqb/observer_base.h"
#include "mqb/observer_kernels.h"
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
    const mqb::ChannelStats st = mqb::channel_stats(*input, stat_axis(), mqb::kStatsMinMax, class_name());
    accumulate_running(mqb::float_tensor(st.min, scheme_.per_channel), mqb::float_tensor(st.max, scheme_.per_channel));
  }
};

}  // namespace

MQB_OBSERVER_PLUGIN(MinMaxObserver, "Running minimum and maximum over all calibration batches", MinMaxObserver)
