// TqtFakeQuantize: Trained Quantization Thresholds (Jain et al. 2020), Vitis' scheme:
// symmetric, per-tensor, power-of-two scale. MQBench spec §4.8.
//
// Default (published TQT): a learnable log2 threshold `log2_t` (t = s * 2^(bit-1));
// s = 2^(ceil(log2_t) - (bit-1)) (straight-through on ceil); y = clamp(round(x/s)) * s
// (half to even); dx = dy inside the range; d/dlog2_t = s ln2 * (round(x/s) - x/s)
// inside, s ln2 * quant_min|quant_max outside. While the observer is on, log2_t is
// set from the observer's scale.
//
// mqbench_compat = true reproduces MQBench's TqtFakeQuantize, which has no trainable
// threshold (spec §8 item 22): scale from the observer, rounded up to a power of two
// (scales below 2^-15 become 1), Vitis rounding for 'input'/'tensor', half-even for
// 'param', input gradient masked with the unrounded scale.
#include <ATen/core/grad_mode.h>
#include <ATen/ops/full.h>
#include <ATen/ops/pow.h>
#include <ATen/ops/where.h>

#include <cmath>

#include "mqb/fake_quant_kernels.h"
#include "mqb/fake_quantize_base.h"
#include "mqb/plugin.h"

#include <torch/csrc/autograd/custom_function.h>

namespace {

// Vitis rounding: ceil for negative exact halves, half to even otherwise.
at::Tensor vitis_round(const at::Tensor& t) {
  return at::where(t.lt(0).logical_and(t.sub(t.floor()).eq(0.5)), t.ceil(), t.round());
}

// Published TQT on a log2 threshold, with the paper's gradients.
class TqtFunction : public torch::autograd::Function<TqtFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& log2_t,
                            int64_t qmin, int64_t qmax, int64_t bit) {
    const double s = std::exp2(std::ceil(log2_t.item<double>()) - static_cast<double>(bit - 1));
    ctx->save_for_backward({x});
    ctx->saved_data["s"] = s;
    ctx->saved_data["qmin"] = qmin;
    ctx->saved_data["qmax"] = qmax;
    return x.div(s).round().clamp(static_cast<double>(qmin), static_cast<double>(qmax)).mul(s);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const at::Tensor x = ctx->get_saved_variables()[0];
    const double s = ctx->saved_data["s"].toDouble();
    const double qmin = static_cast<double>(ctx->saved_data["qmin"].toInt());
    const double qmax = static_cast<double>(ctx->saved_data["qmax"].toInt());
    const at::Tensor& g = grads[0];
    const at::Tensor v = x.div(s);
    const at::Tensor r = v.round();
    const at::Tensor below = r.lt(qmin), above = r.gt(qmax);
    const at::Tensor inside = below.logical_or(above).logical_not();
    const at::Tensor dx = g.mul(inside.to(g.scalar_type()));
    at::Tensor local = at::where(inside, r.sub(v), at::where(below, at::full({}, qmin, v.options()),
                                                             at::full({}, qmax, v.options())));
    const at::Tensor dl = g.mul(local).sum().mul(s * std::log(2.0)).reshape({1});
    return {dx, dl, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

class TqtFakeQuantize final : public mqb::FakeQuantizeBase {
 public:
  explicit TqtFakeQuantize(const mqb::QuantizerArgs& args) : FakeQuantizeBase(args, "TqtFakeQuantize") {
    const auto& p = args.params;
    const double s = p.real("scale", 1.0);
    const double z = p.real("zero_point", 0.0);
    mqbench_compat_ = p.boolean("mqbench_compat", false);
    p.require(std::isfinite(s) && s > 0, "scale", "a finite number > 0");
    p.require(z == 0.0, "zero_point", "0 (TQT is symmetric)");
    p.reject_unknown("TqtFakeQuantize");
    if (!scheme_.symmetric || scheme_.per_channel)
      throw mqb::ConfigError("TqtFakeQuantize: TQT quantizes symmetric per-tensor schemes only; got " +
                             scheme_.describe() + " (MQBench asserts the same at its first forward)");
    scale_ = at::full({1}, s, at::kFloat);
    zero_point_ = at::full({1}, z, at::kFloat);
    mth_ = at::full({}, 0, at::kLong);  // 0 = quant type not set, 2 = input/tensor, 3 = param
    register_state("mth", &mth_);
    if (!mqbench_compat_) {
      log2_t_ = make_parameter(at::full({1}, std::log2(s) + static_cast<double>(scheme_.bit - 1), at::kFloat));
      register_state("log2_t", &log2_t_);
    }
  }

  mqb::NamedTensors parameters() override {
    if (mqbench_compat_) return {};
    return {{"log2_t", log2_t_}};
  }

  void set_quant_type(mqb::QuantType t) override {
    if (t == mqb::QuantType::Unset) throw mqb::ConfigError("TqtFakeQuantize: quant type must be input, tensor or param");
    mth_.fill_(t == mqb::QuantType::Param ? 3 : 2);
    observer_->set_quant_type(t);
  }

  at::Tensor forward(const at::Tensor& x) override {
    check_input(x);
    if (observer_enabled_) {
      observe_and_update(x);
      if (!mqbench_compat_) {
        at::NoGradGuard no_grad;
        log2_t_.fill_(std::log2(scale_.item<double>()) + static_cast<double>(scheme_.bit - 1));
      }
    } else if (mqbench_compat_) {
      at::NoGradGuard no_grad;
      scale_.abs_().clamp_min_(mqb::kObserverEps);
    }
    if (!fake_quant_enabled_) return x;
    zero_point_.zero_();
    if (!mqbench_compat_) {
      {
        at::NoGradGuard no_grad;  // a diverged threshold stays finite
        log2_t_.clamp_(-126.0, 126.0);
        scale_.fill_(std::exp2(std::ceil(log2_t_.item<double>()) - static_cast<double>(scheme_.bit - 1)));
      }
      return TqtFunction::apply(x, log2_t_, scheme_.quant_min(), scheme_.quant_max(), scheme_.bit);
    }
    return compat_forward(x);
  }

 private:
  // MQBench's _fake_quantize_tqt_affine_training and FakeQuantizeTqtAffine.backward.
  at::Tensor compat_forward(const at::Tensor& x) {
    const int64_t mth = mth_.item<int64_t>();
    if (mth != 2 && mth != 3)
      throw mqb::ConfigError("TqtFakeQuantize: call set_quant_type(input|tensor|param) before the first forward "
                             "(config: the backend sets it per site)");
    const double qmin = static_cast<double>(scheme_.quant_min()), qmax = static_cast<double>(scheme_.quant_max());
    const at::Tensor xd = x.detach();
    at::Tensor delta;  // the scale rounded up to a power of two
    if (scale_.item<float>() < std::ldexp(1.0f, -15)) {
      delta = at::full({1}, 1.0f, scale_.options());
    } else {
      const at::Tensor e = scale_.reciprocal().log2().floor();
      delta = at::pow(2, e).reciprocal();
    }
    at::Tensor y;
    if (mth == 3) {
      const at::Tensor t = xd.div(delta);
      y = t.round().sub(t).add(t).clamp(qmin, qmax).mul(delta);
    } else {
      const at::Tensor t = xd.div(delta).clamp(qmin, qmax);
      y = vitis_round(t).sub(t).add(t).mul(delta);
    }
    const at::Tensor r = vitis_round(xd.div(scale_));
    const at::Tensor inside = r.lt(qmin).logical_or(r.gt(qmax)).logical_not();  // NaN counts as inside
    return mqb::straight_through(x, y, inside);
  }

  at::Tensor mth_, log2_t_;
  bool mqbench_compat_ = false;
};

}  // namespace

MQB_QUANTIZER_PLUGIN(TqtFakeQuantize, "TQT: power-of-two scale with a trained log2 threshold (Vitis)", TqtFakeQuantize)
