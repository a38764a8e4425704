// ClipStdObserver (spec §3.5): the range mean ± std_scale·std of the last batch.
// Default: the range is clipped to mean ± k·std *within* the observed extrema
// (the DSQ intent). mqbench_compat = true reproduces MQBench, whose
// minimum/maximum make it the union with the extrema, i.e. it never clips (§8.15).
#include <cmath>

#include "mqb/observer_base.h"
#include "mqb/observer_kernels.h"
#include "mqb/plugin.h"

namespace {

class ClipStdObserver final : public mqb::ObserverBase {
 public:
  explicit ClipStdObserver(const mqb::ObserverArgs& args) : ObserverBase(args, "ClipStdObserver") {
    std_scale_ = args.params.real("std_scale", 2.6);
    args.params.require(std_scale_ >= 0 && std::isfinite(std_scale_), "std_scale", "a finite number >= 0");
    compat_ = args.params.boolean("mqbench_compat", false);
    args.params.reject_unknown("ClipStdObserver");
  }

  void observe(const at::Tensor& x) override {
    auto input = prepare_input(x);
    if (!input) return;
    const mqb::ChannelStats st = mqb::channel_stats(*input, stat_axis(), mqb::kStatsMoments, class_name());
    const size_t C = st.min.size();
    const float k = static_cast<float>(std_scale_);
    std::vector<float> lo(C), hi(C);
    for (size_t c = 0; c < C; ++c) {
      const float mean = static_cast<float>(st.mean[c]);
      float sd = static_cast<float>(st.std_unbiased(c));
      if (!compat_ && std::isnan(sd)) sd = 0.0f;  // one element: no spread (torch.std gives NaN)
      const float ks = k * sd;
      const float a = mean - ks, b = mean + ks;
      if (compat_) {  // torch.minimum / maximum propagate NaN
        lo[c] = std::isnan(a) ? a : std::min(a, st.min[c]);
        hi[c] = std::isnan(b) ? b : std::max(b, st.max[c]);
      } else {
        lo[c] = std::max(a, st.min[c]);
        hi[c] = std::min(b, st.max[c]);
      }
    }
    min_val_ = mqb::float_tensor(lo, scheme_.per_channel);
    max_val_ = mqb::float_tensor(hi, scheme_.per_channel);
  }

 private:
  double std_scale_;
  bool compat_;
};

}  // namespace

MQB_OBSERVER_PLUGIN(ClipStdObserver, "Range mean +- std_scale * std of the last batch (DSQ initialisation)",
                    ClipStdObserver)
