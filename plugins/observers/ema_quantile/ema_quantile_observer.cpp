// EMAQuantileObserver (spec §3.4): per batch, the `threshold` quantile of |x| from a
// `bins`-bin histogram over [0, max|x|] clips the extrema; batches are averaged (EMA).
// Beyond MQBench: per-channel on any axis (one histogram per channel, same rule), and
// when clipping would invert the range (a point mass such as a constant tensor,
// where MQBench's assertion fails) the batch keeps its unclipped extrema.
// mqbench_compat = true restores MQBench's refusal of per-channel schemes and leaves
// inverted ranges to fail in calculate_qparams (DataError).
#include <cmath>

#include "mqb/observer_base.h"
#include "mqb/observer_kernels.h"
#include "mqb/plugin.h"

namespace {

class EMAQuantileObserver final : public mqb::ObserverBase {
 public:
  explicit EMAQuantileObserver(const mqb::ObserverArgs& args) : ObserverBase(args, "EMAQuantileObserver") {
    const mqb::Params& p = args.params;
    ratio_ = p.real("ema_ratio", 0.9);
    p.require(ratio_ >= 0 && ratio_ <= 1, "ema_ratio", "a number in [0, 1]");
    threshold_ = p.real("threshold", 0.99999);
    p.require(threshold_ > 0 && threshold_ <= 1, "threshold", "a number in (0, 1]");
    bins_ = p.integer("bins", 2048);
    p.require(bins_ >= 1 && bins_ <= (int64_t{1} << 20), "bins", "an integer in 1..1048576");
    compat_ = p.boolean("mqbench_compat", false);
    p.reject_unknown("EMAQuantileObserver");
    if (compat_ && scheme_.per_channel)
      throw mqb::ConfigError("EMAQuantileObserver with mqbench_compat = true is per-tensor only (as MQBench); "
                             "drop mqbench_compat for per-channel quantiles");
  }

  void observe(const at::Tensor& x) override {
    auto input = prepare_input(x);
    if (!input) return;
    const int axis = stat_axis();
    const mqb::ChannelStats st = mqb::channel_stats(*input, axis, mqb::kStatsMinMax, class_name());
    const size_t C = st.min.size();
    std::vector<float> range(C);
    for (size_t c = 0; c < C; ++c) range[c] = std::max(-st.min[c], st.max[c]);
    const std::vector<int64_t> hist = mqb::abs_histogram(*input, axis, bins_, range);
    // torch compares the float32 running count with threshold * numel rounded to float32.
    const float limit = static_cast<float>(threshold_ * static_cast<double>(st.count));
    std::vector<float> lo(C), hi(C);
    for (size_t c = 0; c < C; ++c) {
      float clip = range[c], total = 0.0f;
      for (int64_t i = 0; i < bins_; ++i) {
        const float cnt = static_cast<float>(hist[c * bins_ + i]);
        if (total + cnt >= limit) {
          clip = static_cast<float>(static_cast<double>(i) + 0.5) * (range[c] / static_cast<float>(bins_));
          break;
        }
        total += cnt;
      }
      // Python's max(min_cur, -clip) / min(max_cur, clip).
      lo[c] = -clip > st.min[c] ? -clip : st.min[c];
      hi[c] = clip < st.max[c] ? clip : st.max[c];
      if (!compat_ && lo[c] > hi[c]) lo[c] = st.min[c], hi[c] = st.max[c];
    }
    accumulate_ema(mqb::float_tensor(lo, scheme_.per_channel), mqb::float_tensor(hi, scheme_.per_channel), ratio_);
  }

 private:
  double ratio_, threshold_;
  int64_t bins_;
  bool compat_;
};

}  // namespace

MQB_OBSERVER_PLUGIN(EMAQuantileObserver, "EMA of histogram-quantile clipped extrema (threshold of |x|)",
                    EMAQuantileObserver)
