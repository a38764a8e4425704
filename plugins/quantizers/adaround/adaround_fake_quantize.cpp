// AdaRoundFakeQuantize: learned rounding for PTQ reconstruction (Nagel et al. 2020),
// MQBench spec §4.9. Before init() it is FixedFakeQuantize (fused kernel). init(W)
// creates alpha with h(alpha) = frac(W/s); afterwards the forward is
//   y = (clamp(floor(x/s) + h(alpha) + z, qmin, qmax) - z) * s      (soft)
// with gradient to alpha only (floor has none), and get_hard_value() replaces
// h(alpha) by [alpha >= 0]. The reconstruction driver reaches these through
// mqb::AdaRoundExtension (mqb/adaround.h).
#include <ATen/core/grad_mode.h>
#include <ATen/ops/full.h>

#include "mqb/adaround.h"
#include "mqb/fake_quant_kernels.h"
#include "mqb/fake_quantize_base.h"
#include "mqb/plugin.h"

namespace {

class AdaRoundFakeQuantize final : public mqb::FakeQuantizeBase, public mqb::AdaRoundExtension {
 public:
  explicit AdaRoundFakeQuantize(const mqb::QuantizerArgs& args) : FakeQuantizeBase(args, "AdaRoundFakeQuantize") {
    args.params.reject_unknown("AdaRoundFakeQuantize");
    adaround_ = at::full({1}, 0, at::kByte);
    register_state("adaround", &adaround_);
    register_state("alpha", &alpha_);
  }

  mqb::NamedTensors parameters() override {
    if (!alpha_.defined()) return {};
    return {{"alpha", alpha_}};
  }

  at::Tensor forward(const at::Tensor& x) override {
    check_input(x);
    if (observer_enabled_) observe_and_update(x);
    if (!fake_quant_enabled_) return x;
    if (!adaround_enabled())
      return mqb::fake_quantize_affine(x, scale_, zero_point_, scheme_.quant_min(), scheme_.quant_max(), axis());
    return learned_forward(x, rectified_sigmoid());
  }

  // ---- AdaRoundExtension
  void init(const at::Tensor& weight, const std::string& round_mode) override {
    if (round_mode != "learned_hard_sigmoid")
      throw mqb::ConfigError("AdaRoundFakeQuantize: round_mode '" + round_mode +
                             "' is not implemented; accepted: learned_hard_sigmoid");
    check_input(weight);
    adaround_.fill_(1);
    observer_enabled_ = false;
    fake_quant_enabled_ = true;
    const at::Tensor w = weight.detach().to(at::kFloat);
    const at::Tensor v = w.div(scale_view(w));
    const at::Tensor rest = v.sub(v.floor());
    // -log((zeta - gamma) / (rest - gamma) - 1), in MQBench's op order (number/tensor
    // is reciprocal() * number in torch), so that h(alpha) == rest.
    const at::Tensor alpha =
        rest.sub(mqb::kAdaRoundGamma).reciprocal().mul(mqb::kAdaRoundZeta - mqb::kAdaRoundGamma).sub(1).log().neg();
    assign(alpha_, alpha);
    if (!alpha_.requires_grad()) alpha_.set_requires_grad(true);
  }
  bool adaround_enabled() const override { return adaround_.item<uint8_t>() != 0; }
  void set_adaround_enabled(bool on) override {
    if (on && !alpha_.defined()) throw mqb::Error("AdaRoundFakeQuantize: call init(weight) before enabling learned rounding");
    adaround_.fill_(on ? 1 : 0);
  }
  at::Tensor alpha() const override { return alpha_; }
  at::Tensor rectified_sigmoid() const override {
    require_alpha();
    return mqb::adaround_rectified_sigmoid(alpha_);
  }
  at::Tensor round_loss(double beta) const override {
    require_alpha();
    return mqb::adaround_round_loss(alpha_, beta);
  }
  at::Tensor get_hard_value(const at::Tensor& x) const override {
    require_alpha();
    at::NoGradGuard no_grad;
    return learned_forward(x.detach(), alpha_.ge(0).to(at::kFloat));
  }

 private:
  void require_alpha() const {
    if (!alpha_.defined()) throw mqb::Error("AdaRoundFakeQuantize: alpha does not exist before init(weight)");
  }
  at::Tensor scale_view(const at::Tensor& x) const {
    return scheme_.per_channel ? scale_.reshape(mqb::channel_view_shape(x, axis())) : scale_;
  }
  at::Tensor learned_forward(const at::Tensor& x, const at::Tensor& h) const {
    if (h.sizes() != x.sizes())
      throw mqb::DataError("AdaRoundFakeQuantize: alpha was initialised for a tensor of shape " +
                           c10::str(h.sizes()) + ", got " + c10::str(x.sizes()));
    const at::Tensor s = scale_view(x);
    const at::Tensor z = scheme_.per_channel ? zero_point_.reshape(mqb::channel_view_shape(x, axis())) : zero_point_;
    return x.div(s).floor().add(h).add(z)
        .clamp(static_cast<double>(scheme_.quant_min()), static_cast<double>(scheme_.quant_max()))
        .sub(z).mul(s);
  }

  at::Tensor adaround_, alpha_;
};

}  // namespace

MQB_QUANTIZER_PLUGIN(AdaRoundFakeQuantize, "AdaRound: learned up/down rounding for PTQ reconstruction",
                     AdaRoundFakeQuantize)
