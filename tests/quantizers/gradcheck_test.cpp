// Numerical gradient checks (central finite differences, double precision) for every
// learnable parameter, on the parts of each function that are differentiable: LSQ's
// scale where elements are clipped, PACT's alpha (the clip), AdaRound's alpha (the
// rectified sigmoid), QDrop's scale where clipped, TQT's log2 threshold where clipped
// (straight-through on ceil), and DSQ's soft function for the input gradient.
#include <gtest/gtest.h>

#include <ATen/ops/full.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/tanh.h>

#include <cmath>
#include <functional>

#include "mqb/adaround.h"
#include "mqb/fake_quant_kernels.h"
#include "quantizer_test_util.h"
#include "support/tensor_compare.h"

namespace mqb::test {
namespace {

double central_difference(const std::function<double(double)>& f, double at, double h) {
  return (f(at + h) - f(at - h)) / (2.0 * h);
}

double loss(const at::Tensor& y, const at::Tensor& g) { return y.detach().to(at::kDouble).mul(g.to(at::kDouble)).sum().item<double>(); }

// Inputs of magnitude > 4 with a scale of 0.01 in 8 bits: every element clipped.
at::Tensor clipped_input(int64_t n, uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor x = at::rand({n}, at::kDouble).add(4.0);
  at::Tensor sign = at::rand({n}, at::kDouble).gt(0.4).to(at::kDouble).mul(2).sub(1);
  return x.mul(sign);
}

TEST(GradCheck, LearnableScaleInTheClippedRegionPerTensorAndPerChannel) {
  for (const int64_t axis : {-1, 0}) {
    const at::Tensor x = clipped_input(4 * 50, 1).reshape({4, 50});
    const at::Tensor g = at::randn({4, 50}, at::kDouble);
    const int64_t C = axis < 0 ? 1 : 4;
    const at::Tensor s0 = at::full({C}, 0.01, at::kDouble).add(at::rand({C}, at::kDouble).mul(0.001));
    const at::Tensor z0 = at::full({C}, 7.0, at::kDouble);
    const double gf = 0.125;
    at::Tensor s = s0.clone().set_requires_grad(true), z = z0.clone().set_requires_grad(true);
    fake_quantize_learnable(x, s, z, 0, 255, axis, gf).mul(g).sum().backward();
    for (int64_t c = 0; c < C; ++c) {
      auto f = [&](double v) {
        at::Tensor sp = s0.clone();
        sp.data_ptr<double>()[c] = v;
        return loss(fq_learnable_forward(x, sp, z0, 0, 255, axis), g);
      };
      const double fd = central_difference(f, s0.data_ptr<double>()[c], 1e-6) * gf;
      EXPECT_NEAR(s.grad().data_ptr<double>()[c], fd, 1e-7 * std::max(1.0, std::fabs(fd))) << "channel " << c;
      // The zero point's gradient is LSQ+'s straight-through one: -s * gf per clipped element.
      const at::Tensor gc = axis < 0 ? g : g.select(0, c);
      EXPECT_NEAR(z.grad().data_ptr<double>()[c], -s0.data_ptr<double>()[c] * gf * gc.sum().item<double>(), 1e-12);
    }
  }
}

TEST(GradCheck, PactAlphaThroughTheClip) {
  for (const bool symmetric : {true, false}) {
    for (const bool per_channel : {false, true}) {
      auto fq = make_quantizer("PACTFakeQuantize", scheme(8, symmetric, per_channel), [] {
        Params p("fakeq_params");
        p.set("alpha", 1.0);
        return p;
      }());
      at::manual_seed(3);
      const at::Tensor x = at::randn({3, 40}, at::kDouble).mul(1.5);
      const at::Tensor g = at::randn({3, 40}, at::kDouble);
      fq->forward(x.to(at::kFloat));  // calibrate: decides signed-ness, sizes alpha
      fq->set_mode(QuantMode::Disabled);  // the clip stays (published PACT), no rounding
      for (const std::string name : {"alpha", "n_alpha"}) {
        at::Tensor p = parameter(*fq, name);
        if (!p.defined()) continue;
        zero_grads(*fq);
        fq->forward(x).mul(g).sum().backward();
        const at::Tensor grad = p.grad().clone();
        const StateDict base = fq->state();
        for (int64_t c = 0; c < p.numel(); ++c) {
          auto f = [&](double v) {
            StateDict st = base;
            st[name] = base.at(name).clone();
            st[name].data_ptr<float>()[c] = static_cast<float>(v);
            fq->load_state(st);
            return loss(fq->forward(x), g);
          };
          const double at_v = base.at(name).data_ptr<float>()[c];
          const double fd = central_difference(f, at_v, 1.0 / 1024);
          EXPECT_NEAR(grad.data_ptr<float>()[c], fd, 1e-5 * std::max(1.0, std::fabs(fd)))
              << name << "[" << c << "] sym " << symmetric << " pc " << per_channel;
        }
        fq->load_state(base);
      }
    }
  }
}

TEST(GradCheck, AdaRoundAlphaThroughTheRectifiedSigmoid) {
  for (const bool per_channel : {false, true}) {
    auto fq = make_quantizer("AdaRoundFakeQuantize", scheme(4, true, per_channel));
    at::manual_seed(5);
    const at::Tensor w = at::randn({4, 30}, at::kFloat).mul(0.3);
    const at::Tensor g = at::randn({4, 30}, at::kDouble);
    fq->forward(w);
    auto* ext = dynamic_cast<AdaRoundExtension*>(fq.get());
    ASSERT_NE(ext, nullptr);
    ext->init(w, "learned_hard_sigmoid");
    const at::Tensor xd = w.to(at::kDouble);
    fq->forward(xd).mul(g).sum().backward();
    const at::Tensor alpha = ext->alpha();
    const at::Tensor grad = alpha.grad().to(at::kDouble);
    const at::Tensor a0 = alpha.detach().clone();
    const at::Tensor dir = at::randn(alpha.sizes(), at::kFloat);
    // Directional derivative along a random direction, in double.
    auto f = [&](double t) {
      {
        at::NoGradGuard ng;
        alpha.copy_(a0.to(at::kDouble).add(dir.to(at::kDouble).mul(t)).to(at::kFloat));
      }
      return loss(fq->forward(xd), g);
    };
    const double fd = central_difference(f, 0.0, 1e-3);
    const double analytic = grad.mul(dir.to(at::kDouble)).sum().item<double>();
    EXPECT_NEAR(analytic, fd, 2e-3 * std::max(1.0, std::fabs(fd))) << "per_channel " << per_channel;
    // The regulariser's gradient, too.
    {
      at::NoGradGuard ng;
      alpha.copy_(a0);
    }
    alpha.mutable_grad().reset();
    ext->round_loss(4.0).backward();
    // The same regulariser evaluated in double precision.
    auto r = [&](double t) {
      return adaround_round_loss(a0.to(at::kDouble).add(dir.to(at::kDouble).mul(t)), 4.0).item<double>();
    };
    const double fd_r = central_difference(r, 0.0, 1e-6);
    EXPECT_NEAR(alpha.grad().to(at::kDouble).mul(dir.to(at::kDouble)).sum().item<double>(), fd_r,
                2e-3 * std::max(1.0, std::fabs(fd_r)));
  }
}

TEST(GradCheck, QDropScaleInTheClippedRegion) {
  for (const bool per_channel : {false, true}) {
    auto fq = make_quantizer("QDropFakeQuantize", scheme(8, false, per_channel));
    const at::Tensor x = clipped_input(2 * 64, 7).reshape({2, 64});
    const at::Tensor g = at::randn({2, 64}, at::kDouble);
    fq->forward(x.mul(0.01).to(at::kFloat));  // calibrate to a small range: x is then clipped
    fq->set_mode(QuantMode::Quantize);
    zero_grads(*fq);
    fq->forward(x).mul(g).sum().backward();
    at::Tensor s = parameter(*fq, "scale");
    const at::Tensor grad = s.grad().clone();
    const StateDict base = fq->state();
    for (int64_t c = 0; c < s.numel(); ++c) {
      auto f = [&](double v) {
        StateDict st = base;
        st["scale"] = base.at("scale").clone();
        st["scale"].data_ptr<float>()[c] = static_cast<float>(v);
        fq->load_state(st);
        return loss(fq->forward(x), g);
      };
      const double v0 = base.at("scale").data_ptr<float>()[c];
      const double fd = central_difference(f, v0, v0 / 64);
      EXPECT_NEAR(grad.data_ptr<float>()[c], fd, 1e-4 * std::max(1.0, std::fabs(fd))) << "channel " << c;
    }
  }
}

TEST(GradCheck, TqtLog2ThresholdInTheClippedRegion) {
  auto fq = make_quantizer("TqtFakeQuantize", scheme(8, true), Params("fakeq_params"), "MinMaxObserver");
  fq->set_quant_type(QuantType::Tensor);
  const at::Tensor x = clipped_input(100, 9);
  const at::Tensor g = at::randn({100}, at::kDouble);
  fq->forward(x.mul(0.01).to(at::kFloat));  // threshold ~0.05: every element clipped
  fq->set_mode(QuantMode::Quantize);
  zero_grads(*fq);
  fq->forward(x).mul(g).sum().backward();
  const at::Tensor l = parameter(*fq, "log2_t");
  ASSERT_TRUE(l.defined() && l.grad().defined());
  // TQT's straight-through ceil: the derivative of sum(G * clamp(round(x/s)) * s) for
  // s = 2^(l - 7) at l = ceil(l).
  const double l0 = std::ceil(l.item<double>());
  auto f = [&](double lv) {
    const double s = std::exp2(lv - 7.0);
    return x.div(s).round().clamp(-128, 127).mul(s).mul(g).sum().item<double>();
  };
  const double fd = central_difference(f, l0, 1e-6);
  EXPECT_NEAR(l.grad().item<double>(), fd, 1e-4 * std::max(1.0, std::fabs(fd)));
}

TEST(GradCheck, DsqInputGradientIsTheSoftFunctionsSlope) {
  auto fq = make_quantizer("DSQFakeQuantize", scheme(4, false));
  at::manual_seed(11);
  const at::Tensor x = at::randn({200}, at::kFloat);
  fq->forward(x);  // calibrate
  fq->set_mode(QuantMode::Quantize);
  at::Tensor xr = x.clone().set_requires_grad(true);
  const at::Tensor g = at::randn({200}, at::kFloat);
  fq->forward(xr).mul(g).sum().backward();
  const double s = fq->qparams().scale.item<double>(), z = fq->qparams().zero_point.item<double>();
  const double ks = 1.0 / (1.0 - 0.4), k = std::log((ks + 1.0) / (ks - 1.0));
  // The soft function phi(u) in double; its slope by central differences.
  auto phi = [&](double u) {
    const double f = std::floor(u);
    return f + 0.5 * ks * std::tanh(k * (u - f - 0.5)) + 0.5;
  };
  for (int64_t i = 0; i < 200; ++i) {
    const double u = x[i].item<double>() / s + z;
    if (u <= 0.0 || u >= 15.0 || std::fabs(u - std::round(u)) < 1e-3) continue;  // clamp edges, floor jumps
    const double slope = central_difference(phi, u, 1e-6);
    const double expected = g[i].item<double>() * slope;  // d/dx of (phi(x/s+z) - z) * s
    EXPECT_NEAR(xr.grad()[i].item<double>(), expected, 1e-4 * std::max(1.0, std::fabs(expected))) << "element " << i;
  }
}

}  // namespace
}  // namespace mqb::test
