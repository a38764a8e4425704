// QDropFakeQuantize: activation quantizer of BRECQ / QDrop (MQBench spec §4.10).
// The scale is learnable; y = (clamp(round_ste(x/s) + z, qmin, qmax) - z) * s with
// autograd (LSQ-like scale gradient, no gradient scaling); with prob < 1 each element
// keeps its quantized value with probability prob and its float value otherwise
// (QDrop's random drop), from a seedable generator of its own.
// Per-channel schemes reshape scale and zero point along ch_axis (MQBench reshapes
// only the scale and fails, spec §8 item 27b).
#include <ATen/core/grad_mode.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/full.h>
#include <ATen/ops/where.h>

#include <cmath>
#include <random>

#include "mqb/adaround.h"
#include "mqb/fake_quant_kernels.h"
#include "mqb/fake_quantize_base.h"
#include "mqb/plugin.h"

namespace {

class QDropFakeQuantize final : public mqb::FakeQuantizeBase, public mqb::QDropExtension {
 public:
  explicit QDropFakeQuantize(const mqb::QuantizerArgs& args) : FakeQuantizeBase(args, "QDropFakeQuantize") {
    const auto& p = args.params;
    const double prob = p.real("prob", 1.0);
    const int64_t seed = p.integer("seed", 0);
    p.require(prob >= 0.0 && prob <= 1.0, "prob", "a number in [0, 1]");
    p.require(seed >= 0, "seed", "an integer >= 0");
    p.reject_unknown("QDropFakeQuantize");
    scale_ = make_parameter(at::full({1}, 1.0f, at::kFloat));
    prob_ = at::full({1}, prob, at::kDouble);
    register_state("prob", &prob_);
    rng_.seed(static_cast<uint64_t>(seed));
  }

  mqb::NamedTensors parameters() override { return {{"scale", scale_}}; }

  at::Tensor forward(const at::Tensor& x) override {
    check_input(x);
    observe_or_sanitise_scale(x);  // observer off: scale = max(|scale|, eps)
    if (!fake_quant_enabled_) return x;
    at::Tensor s = scale_, z = zero_point_;
    if (scheme_.per_channel) {
      const auto shape = mqb::channel_view_shape(x, axis());
      s = s.reshape(shape);
      z = z.reshape(shape);
    }
    const at::Tensor t = x.div(s);
    const at::Tensor y = t.round().sub(t).detach().add(t).add(z)
                             .clamp(static_cast<double>(scheme_.quant_min()), static_cast<double>(scheme_.quant_max()))
                             .sub(z).mul(s);
    const double p = prob();
    if (p >= 1.0) return y;
    return at::where(keep_mask(x), y, x);
  }

  // ---- QDropExtension
  void set_prob(double p) override {
    if (!(p >= 0.0 && p <= 1.0))
      throw mqb::ConfigError("QDropFakeQuantize: prob = " + std::to_string(p) + " is outside [0, 1]");
    prob_.fill_(p);
  }
  double prob() const override { return prob_.item<double>(); }
  void set_seed(uint64_t seed) override { rng_.seed(seed); }

 private:
  // Bernoulli(prob) per element: true keeps the quantized value.
  at::Tensor keep_mask(const at::Tensor& x) {
    at::Tensor m = at::empty(x.sizes(), x.options().dtype(at::kBool));
    bool* pm = m.data_ptr<bool>();
    std::uniform_real_distribution<double> u(0.0, 1.0);
    const double p = prob();
    for (int64_t i = 0; i < m.numel(); ++i) pm[i] = u(rng_) < p;
    return m;
  }

  at::Tensor prob_;
  std::mt19937_64 rng_;
};

}  // namespace

MQB_QUANTIZER_PLUGIN(QDropFakeQuantize, "QDrop/BRECQ activations: learnable scale, random drop of quantization",
                     QDropFakeQuantize)
