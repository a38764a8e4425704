// EMAMinMaxObserver: exponential moving average of per-batch extrema (spec §3.3).
#include "mqb/observer_base.h"
#include "mqb/observer_kernels.h"
#include "mqb/plugin.h"

namespace {

class EMAMinMaxObserver final : public mqb::ObserverBase {
 public:
  explicit EMAMinMaxObserver(const mqb::ObserverArgs& args) : ObserverBase(args, "EMAMinMaxObserver") {
    ratio_ = args.params.real("ema_ratio", 0.9);
    args.params.require(ratio_ >= 0 && ratio_ <= 1, "ema_ratio", "a number in [0, 1]");
    args.params.reject_unknown("EMAMinMaxObserver");
  }

  void observe(const at::Tensor& x) override {
    auto input = prepare_input(x);
    if (!input) return;
    const mqb::ChannelStats st = mqb::channel_stats(*input, stat_axis(), mqb::kStatsMinMax, class_name());
    accumulate_ema(mqb::float_tensor(st.min, scheme_.per_channel), mqb::float_tensor(st.max, scheme_.per_channel),
                   ratio_);
  }

 private:
  double ratio_;
};

}  // namespace

MQB_OBSERVER_PLUGIN(EMAMinMaxObserver, "Exponential moving average of per-batch minimum and maximum",
                    EMAMinMaxObserver)
