// APoTFakeQuantize: Additive Powers-of-Two fake quantization (Li et al., ICLR 2020),
// a method MQBench does not have. Values are clipped to a learned alpha (per tensor
// or per channel) and rounded to the nearest level alpha * v, v a sum of powers of two.
#include <ATen/TensorOperators.h>
#include <ATen/ops/abs.h>
#include <ATen/ops/full.h>
#include <ATen/ops/maximum.h>
#include <ATen/ops/minimum.h>
#include <ATen/ops/zeros.h>
#include <ATen/ops/zeros_like.h>

#include <cmath>

#include "apot_levels.h"
#include "mqb/fake_quant_kernels.h"  // channel_view_shape
#include "mqb/fake_quantize_base.h"  // owned observer, switches, state save/load
#include "mqb/plugin.h"              // the entry-point macros

class APoTFakeQuantize final : public mqb::FakeQuantizeBase {
 public:
  explicit APoTFakeQuantize(const mqb::QuantizerArgs& args)
      : FakeQuantizeBase(args, "APoTFakeQuantize"), levels_(apot::levels_tensor(args.qscheme)) {
    const double alpha = args.params.real("alpha", 1.0);  // from *_fakeq_params
    args.params.require(std::isfinite(alpha) && alpha > 0, "alpha", "a finite number > 0");
    args.params.reject_unknown("APoTFakeQuantize");
    alpha_ = make_parameter(at::full({1}, alpha, at::kFloat));
    register_state("alpha", &alpha_);  // saved and loaded with the rest, bit-exact
  }

  mqb::NamedTensors parameters() override { return {{"alpha", alpha_}}; }
  // The levels are no affine grid: deploy as TorchScript refuses with a clear message.
  mqb::DeployForm deploy_form() const override { return mqb::DeployForm::NonUniform; }
  // There is no affine step: the qparams report the clip value (and zero).
  mqb::QParams qparams() const override {
    return {alpha_.detach().clone(), at::zeros(alpha_.sizes(), at::kInt)};
  }

  at::Tensor forward(const at::Tensor& x) override {
    check_input(x);
    if (observer_enabled_) {
      observer_->observe(x.detach());
      // Calibration: alpha is the largest magnitude of the observer's range.
      const at::Tensor range = at::maximum(observer_->min_val().abs(), observer_->max_val().abs());
      assign(alpha_, range.reshape({-1}).clamp_min(1e-8));
    }
    if (!fake_quant_enabled_ || x.numel() == 0) return x;
    const at::Tensor a = alpha_view(x);
    const at::Tensor lo = apot::is_signed(scheme_) ? a.neg() : at::zeros_like(a);
    const at::Tensor c = at::minimum(at::maximum(x, lo), a);  // d/dalpha: 1 above, -1 below
    const at::Tensor u = (c / a).detach();
    // Value: alpha * level(u). Gradients (the paper's): 1 for x inside the clip;
    // d/dalpha = level(u) - u inside, sign(x) outside.
    return c + a * (apot::quantize_unit(u, levels_) - u);
  }

 private:
  // alpha shaped to broadcast over x: [C, 1, ...] per channel once calibrated.
  at::Tensor alpha_view(const at::Tensor& x) const {
    if (!scheme_.per_channel || alpha_.numel() == 1) return alpha_;
    return alpha_.reshape(mqb::channel_view_shape(x, axis()));
  }

  at::Tensor levels_;  // the 2^B magnitude levels in [0, 1]
  at::Tensor alpha_;   // the learned clip value
};

MQB_QUANTIZER_PLUGIN(APoTFakeQuantize, "APoT: additive powers-of-two levels with a learned clip (Li et al. 2020)",
                     APoTFakeQuantize)
