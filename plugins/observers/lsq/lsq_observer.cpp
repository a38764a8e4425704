// LSQObserver (spec §3.6): LSQ's initial step size s = 2·mean(|x|)/sqrt(quant_max)
// from the last batch. Default: s >= eps and the affine zero point clamped to
// [quant_min, quant_max]; mqbench_compat = true drops both, as MQBench (§8.20).
#include <cmath>

#include "mqb/observer_base.h"
#include "mqb/observer_kernels.h"
#include "mqb/plugin.h"

namespace {

class LSQObserver final : public mqb::ObserverBase {
 public:
  explicit LSQObserver(const mqb::ObserverArgs& args) : ObserverBase(args, "LSQObserver") {
    compat_ = args.params.boolean("mqbench_compat", false);
    args.params.reject_unknown("LSQObserver");
    register_state("tensor_norm", &tensor_norm_, [] { return at::Tensor(at::zeros({0}, at::kFloat)); });
  }

  void observe(const at::Tensor& x) override {
    auto input = prepare_input(x);
    if (!input) return;
    const mqb::ChannelStats st = mqb::channel_stats(*input, stat_axis(), mqb::kStatsAbsMean, class_name());
    std::vector<float> norm(st.abs_mean.begin(), st.abs_mean.end());
    tensor_norm_ = mqb::float_tensor(norm, scheme_.per_channel);
    min_val_ = mqb::float_tensor(st.min, scheme_.per_channel);
    max_val_ = mqb::float_tensor(st.max, scheme_.per_channel);
  }

  mqb::QParams calculate_qparams() override {
    if (!has_data()) return ObserverBase::calculate_qparams();  // (1.0, 0) before any data
    const std::vector<float> norm = mqb::to_float_vector(tensor_norm_), mn = mqb::to_float_vector(min_val_);
    const float root = static_cast<float>(std::sqrt(static_cast<double>(scheme_.quant_max())));
    std::vector<float> s(norm.size());
    for (size_t c = 0; c < norm.size(); ++c) {
      s[c] = 2.0f * norm[c] / root;
      if (!compat_) s[c] = std::max(s[c], mqb::kObserverEps);
    }
    at::Tensor scale = mqb::float_tensor(s, scheme_.per_channel);
    if (scheme_.pot_scale) scale = mqb::round_scale_to_pot(scale);
    const std::vector<float> sp = mqb::to_float_vector(scale);
    std::vector<float> z(norm.size(), 0.0f);
    if (!scheme_.symmetric)
      for (size_t c = 0; c < z.size(); ++c) {
        z[c] = static_cast<float>(scheme_.quant_min()) - std::nearbyint(mn[c] / sp[c]);
        if (!compat_)
          z[c] = std::min(std::max(z[c], static_cast<float>(scheme_.quant_min())), static_cast<float>(scheme_.quant_max()));
      }
    return {scale, mqb::float_tensor(z, scheme_.per_channel)};
  }

 private:
  bool compat_;
  at::Tensor tensor_norm_;
};

}  // namespace

MQB_OBSERVER_PLUGIN(LSQObserver, "LSQ step-size initialisation 2*mean(|x|)/sqrt(quant_max)", LSQObserver)
