// LSQPlusObserver (spec §3.7): LSQ+ initialisation
// s = max(|mean - 3 std|, |mean + 3 std|) / (quant_max - quant_min + 1) of the last batch.
// Default: per-channel extrema are per channel, s >= eps, zero point clamped.
// mqbench_compat = true: global extrema for per-channel schemes (§8.16), no eps, no clamp.
#include <cmath>

#include "mqb/observer_base.h"
#include "mqb/observer_kernels.h"
#include "mqb/plugin.h"

namespace {

class LSQPlusObserver final : public mqb::ObserverBase {
 public:
  explicit LSQPlusObserver(const mqb::ObserverArgs& args) : ObserverBase(args, "LSQPlusObserver") {
    compat_ = args.params.boolean("mqbench_compat", false);
    args.params.reject_unknown("LSQPlusObserver");
    register_state("mean", &mean_, [] { return at::Tensor(at::zeros({0}, at::kFloat)); });
    register_state("std", &std_, [] { return at::Tensor(at::zeros({0}, at::kFloat)); });
  }

  void observe(const at::Tensor& x) override {
    auto input = prepare_input(x);
    if (!input) return;
    const mqb::ChannelStats st = mqb::channel_stats(*input, stat_axis(), mqb::kStatsMoments, class_name());
    const size_t C = st.min.size();
    std::vector<float> mean(C), sd(C);
    for (size_t c = 0; c < C; ++c) {
      mean[c] = static_cast<float>(st.mean[c]);
      sd[c] = static_cast<float>(st.std_unbiased(c));
      if (!compat_ && std::isnan(sd[c])) sd[c] = 0.0f;  // one element: no spread
    }
    mean_ = mqb::float_tensor(mean, scheme_.per_channel);
    std_ = mqb::float_tensor(sd, scheme_.per_channel);
    if (compat_ && scheme_.per_channel) {
      min_val_ = mqb::float_tensor({*std::min_element(st.min.begin(), st.min.end())}, false);
      max_val_ = mqb::float_tensor({*std::max_element(st.max.begin(), st.max.end())}, false);
    } else {
      min_val_ = mqb::float_tensor(st.min, scheme_.per_channel);
      max_val_ = mqb::float_tensor(st.max, scheme_.per_channel);
    }
  }

  mqb::QParams calculate_qparams() override {
    if (!has_data()) return ObserverBase::calculate_qparams();  // (1.0, 0) before any data
    const std::vector<float> mean = mqb::to_float_vector(mean_), sd = mqb::to_float_vector(std_);
    const std::vector<float> mn = mqb::to_float_vector(min_val_);
    const float levels = static_cast<float>(scheme_.quant_max() - scheme_.quant_min() + 1);
    std::vector<float> s(mean.size());
    for (size_t c = 0; c < s.size(); ++c) {
      const float t = 3.0f * sd[c];
      s[c] = std::max(std::fabs(mean[c] - t), std::fabs(mean[c] + t)) / levels;
      if (!compat_) s[c] = std::max(s[c], mqb::kObserverEps);
    }
    at::Tensor scale = mqb::float_tensor(s, scheme_.per_channel);
    if (scheme_.pot_scale) scale = mqb::round_scale_to_pot(scale);
    const std::vector<float> sp = mqb::to_float_vector(scale);
    std::vector<float> z(s.size(), 0.0f);
    const float qmin = static_cast<float>(scheme_.quant_min()), qmax = static_cast<float>(scheme_.quant_max());
    if (!scheme_.symmetric)
      for (size_t c = 0; c < z.size(); ++c) {
        const float m = mn.size() == 1 ? mn[0] : mn[c];  // compat: one global minimum
        if (m >= 0.0f) z[c] = qmin - std::nearbyint(m / sp[c]);
        if (!compat_) z[c] = std::min(std::max(z[c], qmin), qmax);
      }
    return {scale, mqb::float_tensor(z, scheme_.per_channel)};
  }

 private:
  bool compat_;
  at::Tensor mean_, std_;
};

}  // namespace

MQB_OBSERVER_PLUGIN(LSQPlusObserver, "LSQ+ initialisation from mean and std (3 sigma)", LSQPlusObserver)
