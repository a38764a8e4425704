// PACTFakeQuantize: PACT (Choi et al. 2018), MQBench spec §4.5. A learnable clipping
// value alpha (and n_alpha for asymmetric schemes) bounds the input; the qparams
// follow from the clipped range [lower, alpha]; the clip passes gradient to alpha
// where it is active, the fake quantization is straight-through.
//
// Default (published PACT): the clip and the qparams-from-alpha are applied on every
// call, so alpha keeps learning after calibration. mqbench_compat = true reproduces
// MQBench, which clips and refreshes qparams only while the observer is enabled
// (spec §8 item 25). Per-channel schemes learn one alpha per channel (MQBench fails).
#include <ATen/core/grad_mode.h>
#include <ATen/ops/full.h>
#include <ATen/ops/where.h>
#include <ATen/ops/zeros_like.h>

#include <cmath>

#include "mqb/fake_quant_kernels.h"
#include "mqb/fake_quantize_base.h"
#include "mqb/plugin.h"

namespace {

class PACTFakeQuantize final : public mqb::FakeQuantizeBase {
 public:
  explicit PACTFakeQuantize(const mqb::QuantizerArgs& args) : FakeQuantizeBase(args, "PACTFakeQuantize") {
    const auto& p = args.params;
    const double alpha = p.real("alpha", 6.0);
    mqbench_compat_ = p.boolean("mqbench_compat", false);
    p.require(std::isfinite(alpha) && alpha > 0.0, "alpha", "a finite number > 0");
    p.reject_unknown("PACTFakeQuantize");
    alpha_ = make_parameter(at::full({1}, alpha, at::kFloat));
    register_state("alpha", &alpha_);
    if (!scheme_.symmetric) {
      n_alpha_ = make_parameter(at::full({1}, -alpha, at::kFloat));
      register_state("n_alpha", &n_alpha_);
    }
    signed_ = at::full({1}, 0, at::kByte);
    register_state("signed", &signed_);
  }

  mqb::NamedTensors parameters() override {
    mqb::NamedTensors out{{"alpha", alpha_}};
    if (n_alpha_.defined()) out.emplace_back("n_alpha", n_alpha_);
    return out;
  }

  at::Tensor forward(const at::Tensor& input) override {
    check_input(input);
    if (scheme_.per_channel) widen_to_channels(input.size(axis()));
    at::Tensor x = input;
    const bool clip = observer_enabled_ || !mqbench_compat_;
    if (clip) {
      if (observer_enabled_) observer_->observe(input.detach());
      const at::Tensor hi = view(alpha_, input);
      x = at::where(x.gt(hi), hi, x);
      if (observer_enabled_) {
        at::NoGradGuard no_grad;
        signed_.fill_(x.min().item<float>() < 0.0f ? 1 : 0);
      }
      at::Tensor lo_range;
      if (signed_.item<uint8_t>() != 0) {
        const at::Tensor lo = scheme_.symmetric ? alpha_.neg() : n_alpha_;
        const at::Tensor lo_v = view(lo, input);
        x = at::where(x.lt(lo_v), lo_v, x);
        lo_range = lo.detach();
      } else {
        lo_range = at::zeros_like(alpha_.detach());
      }
      // The observer's range is pinned to the clip values (MQBench overwrites it).
      observer_->set_range(range_like(observer_->min_val(), lo_range), range_like(observer_->max_val(), alpha_));
      const mqb::QParams q = observer_->calculate_qparams();
      assign(scale_, q.scale);
      assign(zero_point_, q.zero_point);
    }
    if (!fake_quant_enabled_) return x;
    return mqb::fake_quantize_affine(x, scale_, zero_point_, scheme_.quant_min(), scheme_.quant_max(), axis());
  }

 private:
  at::Tensor view(const at::Tensor& v, const at::Tensor& x) const {
    return scheme_.per_channel ? v.reshape(mqb::channel_view_shape(x, axis())) : v;
  }
  // MQBench fills the observer's buffer in place (keeping its 0-d shape per-tensor).
  at::Tensor range_like(const at::Tensor& current, const at::Tensor& value) const {
    const at::Tensor v = value.detach().to(at::kFloat);
    if (!scheme_.per_channel) return v.reshape(current.dim() == 0 ? at::IntArrayRef{} : at::IntArrayRef{1}).clone();
    return v.clone();
  }
  // Per-channel: one clip value per channel, started from the per-tensor value.
  void widen_to_channels(int64_t channels) {
    if (alpha_.numel() == channels) return;
    if (alpha_.numel() != 1)
      throw mqb::DataError("PACTFakeQuantize: alpha has " + std::to_string(alpha_.numel()) +
                           " channels but the input has " + std::to_string(channels));
    assign(alpha_, alpha_.detach().expand({channels}));
    if (n_alpha_.defined()) assign(n_alpha_, n_alpha_.detach().expand({channels}));
  }

  at::Tensor alpha_, n_alpha_, signed_;
  bool mqbench_compat_ = false;
};

}  // namespace

MQB_QUANTIZER_PLUGIN(PACTFakeQuantize, "PACT: learnable clipping value alpha, then fake quantize", PACTFakeQuantize)
