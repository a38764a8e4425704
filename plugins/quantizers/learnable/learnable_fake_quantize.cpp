// LearnableFakeQuantize: LSQ / LSQ+ (MQBench spec §4.3). Scale and zero point are
// learnable leaves; forward/backward are those of torch's
// _fake_quantize_learnable_per_{tensor,channel}_affine (spec §0.3) on the SDK's
// fused kernels, with LSQ's gradient scaling 1/sqrt(numel * quant_max).
#include <ATen/core/grad_mode.h>
#include <ATen/ops/full.h>

#include <cmath>

#include "mqb/fake_quant_kernels.h"
#include "mqb/fake_quantize_base.h"
#include "mqb/plugin.h"

namespace {

class LearnableFakeQuantize final : public mqb::FakeQuantizeBase {
 public:
  explicit LearnableFakeQuantize(const mqb::QuantizerArgs& args) : FakeQuantizeBase(args, "LearnableFakeQuantize") {
    const auto& p = args.params;
    const double s = p.real("scale", 1.0);
    const double z = p.real("zero_point", 0.0);
    use_grad_scaling_ = p.boolean("use_grad_scaling", true);
    p.require(std::isfinite(s) && s > 0, "scale", "a finite number > 0");
    p.require(std::isfinite(z), "zero_point", "a finite number");
    p.reject_unknown("LearnableFakeQuantize");
    scale_ = make_parameter(at::full({1}, s, at::kFloat));
    zero_point_ = make_parameter(at::full({1}, z, at::kFloat));
  }

  mqb::NamedTensors parameters() override { return {{"scale", scale_}, {"zero_point", zero_point_}}; }

  at::Tensor forward(const at::Tensor& x) override {
    check_input(x);
    observe_or_sanitise_scale(x);  // observer off: scale = max(|scale|, eps)
    if (!fake_quant_enabled_) return x;
    {
      at::NoGradGuard no_grad;
      if (scheme_.symmetric) zero_point_.zero_();
      else zero_point_.clamp_(static_cast<double>(scheme_.quant_min()), static_cast<double>(scheme_.quant_max()));
    }
    double gf = 1.0;
    if (use_grad_scaling_) {
      const double n = scheme_.per_channel ? static_cast<double>(x.numel()) / static_cast<double>(x.size(axis()))
                                           : static_cast<double>(x.numel());
      gf = 1.0 / std::pow(n * static_cast<double>(scheme_.quant_max()), 0.5);
    }
    return mqb::fake_quantize_learnable(x, scale_, zero_point_, scheme_.quant_min(), scheme_.quant_max(), axis(), gf);
  }

 private:
  bool use_grad_scaling_ = true;
};

}  // namespace

MQB_QUANTIZER_PLUGIN(LearnableFakeQuantize, "LSQ/LSQ+: learnable scale and zero point with gradient scaling",
                     LearnableFakeQuantize)
