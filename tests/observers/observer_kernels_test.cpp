// The helper layer's fast paths against straightforward ATen compositions: scalar
// qparams vs the tensor formula, one-pass stats vs aminmax/mean/std, the |x|
// histogram vs torch.histc, and the MSE search vs MQBench's 95-candidate loop of
// fake_quantize_per_tensor_affine + mean of squared error.
#include <gtest/gtest.h>

#include <ATen/ops/abs.h>
#include <ATen/ops/aminmax.h>
#include <ATen/ops/fake_quantize_per_tensor_affine.h>
#include <ATen/ops/full.h>
#include <ATen/ops/histc.h>
#include <ATen/ops/linspace.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/randn.h>

#include "mqb/observer_kernels.h"
#include "mqb/qparams_math.h"
#include "observer_test_util.h"
#include "support/tensor_compare.h"

namespace mqb::test {
namespace {

TEST(ObserverKernels, ScalarQParamsEqualTheTensorFormula) {
  at::manual_seed(1);
  const at::Tensor lo = at::randn({400}).mul(3.0).sub(0.5), hi = lo.add(at::rand({400}).mul(4.0));
  for (int bit : {2, 4, 8, 16})
    for (bool sym : {true, false})
      for (bool range : {false, true}) {
        if (range && !sym) continue;
        const QScheme s = scheme_of(bit, sym, -1, false, range);
        for (int64_t i = 0; i < lo.numel(); ++i) {
          const float a = lo[i].item<float>(), b = hi[i].item<float>();
          const QParams ref = qparams_from_minmax(at::full({}, a), at::full({}, b), s, "ref");
          const ScalarQParams q = qparams_scalar(a, b, s);
          ASSERT_EQ(q.scale, ref.scale.item<float>()) << s.name() << " " << a << " " << b;
          ASSERT_EQ(q.zero_point, ref.zero_point.item<int>()) << s.name() << " " << a << " " << b;
        }
      }
}

TEST(ObserverKernels, ChannelStatsMatchAten) {
  at::manual_seed(2);
  const at::Tensor x = at::randn({70000}).mul(2.0).add(1.0);
  const ChannelStats st = channel_stats(x, -1, kStatsMoments | kStatsAbsMean, "test");
  auto mm = at::aminmax(x);
  EXPECT_EQ(st.min[0], std::get<0>(mm).item<float>());
  EXPECT_EQ(st.max[0], std::get<1>(mm).item<float>());
  EXPECT_NEAR(st.mean[0], x.to(at::kDouble).mean().item<double>(), 1e-12);
  EXPECT_NEAR(st.std_unbiased(0), x.to(at::kDouble).std().item<double>(), 1e-10);
  EXPECT_NEAR(st.abs_mean[0], x.to(at::kDouble).abs().mean().item<double>(), 1e-12);
}

TEST(ObserverKernels, AbsHistogramMatchesTorchHistc) {
  at::manual_seed(3);
  for (int64_t bins : {7, 2048}) {
    const at::Tensor x = at::randn({50000});
    const float r = x.abs().max().item<float>();
    const std::vector<int64_t> h = abs_histogram(x, -1, bins, {r});
    const at::Tensor ref = at::histc(x.abs(), bins, 0, r);
    for (int64_t i = 0; i < bins; ++i) ASSERT_EQ(h[i], static_cast<int64_t>(ref[i].item<float>())) << bins << " " << i;
  }
}

// MQBench's MSEObserver.mse() for one tensor, written with ATen ops (the reference).
std::pair<float, float> reference_mse(const at::Tensor& x, const QScheme& s, int iters, std::vector<float>* losses) {
  auto mm = at::aminmax(x);
  const at::Tensor lo = std::get<0>(mm), hi = std::get<1>(mm);
  float best = 1e10f;
  std::pair<float, float> out{lo.item<float>(), hi.item<float>()};
  for (int i = 0; i < iters; ++i) {
    const at::Tensor nlo = lo.mul(1.0 - i * 0.01), nhi = hi.mul(1.0 - i * 0.01);
    const QParams q = qparams_from_minmax(nlo, nhi, s, "ref");
    const at::Tensor xq = at::fake_quantize_per_tensor_affine(x, q.scale.item<float>(), q.zero_point.item<int>(),
                                                              s.quant_min(), s.quant_max());
    const float score = xq.sub(x).abs().pow(2.0).mean().item<float>();
    losses->push_back(score);
    if (score < best) {
      best = score;
      out = {nlo.item<float>(), nhi.item<float>()};
    }
  }
  return out;
}

TEST(ObserverKernels, MseSearchChoosesWhatTheAtenLoopChooses) {
  at::manual_seed(4);
  int exact = 0, total = 0;
  for (int trial = 0; trial < 6; ++trial) {
    at::Tensor x = at::randn({3000});
    if (trial % 2) x = x.pow(3.0);  // heavy tails: clipping pays off
    for (int bit : {2, 4, 8})
      for (bool sym : {true, false}) {
        const QScheme s = scheme_of(bit, sym);
        std::vector<float> losses;
        const auto ref = reference_mse(x, s, 95, &losses);
        auto obs = make_observer("MSEObserver", s);
        obs->observe(x);
        const float lo = obs->min_val().item<float>(), hi = obs->max_val().item<float>();
        ++total;
        if (lo == ref.first && hi == ref.second) {
          ++exact;
          continue;
        }
        // A float32 near-tie: our choice must be as good as the reference's by its own loss.
        const float f = hi != 0 ? hi / x.max().item<float>() : lo / x.min().item<float>();
        const int i = static_cast<int>(std::lround((1.0f - f) * 100.0f));
        const float best = *std::min_element(losses.begin(), losses.end());
        ASSERT_GE(i, 0);
        ASSERT_LT(i, 95);
        EXPECT_LE(losses[i], best * (1 + 1e-6f)) << s.name() << " trial " << trial;
      }
  }
  EXPECT_GE(exact, total - 2) << exact << "/" << total << " chosen ranges identical";
}

}  // namespace
}  // namespace mqb::test

namespace mqb::test {
namespace {

// Per-channel MSE (MQBench's loop: each channel slice searched per tensor with 80
// candidates) and EMAMSE (EMA of the per-batch optima), against the ATen reference.
TEST(ObserverKernels, PerChannelMseAndEmaMseFollowTheReference) {
  at::manual_seed(9);
  const at::Tensor b1 = at::randn({3, 400}).pow(3.0), b2 = at::randn({3, 400}).mul(2.0);
  const QScheme pc = scheme_of(4, true, 0);
  auto mse = make_observer("MSEObserver", pc);
  mse->observe(b1);
  for (int c = 0; c < 3; ++c) {
    std::vector<float> losses;
    const auto ref = reference_mse(b1[c].contiguous(), pc, 80, &losses);
    EXPECT_EQ(mse->min_val()[c].item<float>(), ref.first) << c;
    EXPECT_EQ(mse->max_val()[c].item<float>(), ref.second) << c;
  }
  const QScheme pt = scheme_of(8, false);
  auto ema = make_observer("EMAMSEObserver", pt);
  ema->observe(b1);
  ema->observe(b2);
  std::vector<float> l1, l2;
  const auto r1 = reference_mse(b1, pt, 95, &l1), r2 = reference_mse(b2, pt, 95, &l2);
  EXPECT_EQ(ema->min_val().item<float>(), r1.first * 0.9f + r2.first * 0.1f);
  EXPECT_EQ(ema->max_val().item<float>(), r1.second * 0.9f + r2.second * 0.1f);
}

}  // namespace
}  // namespace mqb::test

namespace mqb::test {
namespace {

float clip_of(const std::shared_ptr<Observer>& obs) {
  // Asymmetric 8-bit on non-negative data: scale = T / 255.
  return obs->calculate_qparams().scale.item<float>() * 255.0f;
}

TEST(HistogramObservers, PercentileOfUniformDataAndAcrossGrowingRanges) {
  Params p;
  p.set("percentile", 90.0);
  auto one = make_observer("PercentileObserver", scheme_of(8, false), p);
  one->observe(at::linspace(0, 1, 100001));
  EXPECT_NEAR(clip_of(one), 0.9f, 1.0f / 2048);
  // U(0,1) then U(0,2), equal counts: the CDF below 1 is 0.75 t, so the median is 2/3;
  // the second batch forces the first histogram to be spread onto wider bins.
  Params m;
  m.set("percentile", 50.0);
  auto two = make_observer("PercentileObserver", scheme_of(8, false), m);
  two->observe(at::linspace(0, 1, 100001));
  two->observe(at::linspace(0, 2, 100001));
  EXPECT_NEAR(clip_of(two), 2.0f / 3.0f, 2.0f / 1024);
}

TEST(HistogramObservers, EntropyClipsOutliersAndKeepsTheRangeAtHighBitWidths) {
  at::manual_seed(41);
  at::Tensor x = at::randn({200000});
  x[0] = 50.0f;
  x[1] = -45.0f;
  auto e8 = make_observer("EntropyObserver", scheme_of(8, true));
  e8->observe(x);
  const float t = e8->calculate_qparams().scale.item<float>() * 127.5f;
  EXPECT_GT(t, 2.0f);
  EXPECT_LT(t, 20.0f);
  auto e16 = make_observer("EntropyObserver", scheme_of(16, true));
  e16->observe(x);
  EXPECT_EQ(e16->calculate_qparams().scale.item<float>(), 50.0f / 32767.5f);
}

TEST(HistogramObservers, HistogramMseIsCloseToTheExactBestClip) {
  at::manual_seed(42);
  const at::Tensor x = at::randn({100000}).pow(3.0);  // heavy tails
  const QScheme s = scheme_of(4, true);
  auto obs = make_observer("HistogramMSEObserver", s);
  obs->observe(x);
  const float chosen_scale = obs->calculate_qparams().scale.item<float>();
  const float r = x.abs().max().item<float>();
  auto exact = [&](float scale) {
    const at::Tensor xq = at::fake_quantize_per_tensor_affine(x, scale, 0, s.quant_min(), s.quant_max());
    return xq.sub(x).pow(2.0).mean().item<float>();
  };
  float best = INFINITY;
  for (int k = 1; k <= 100; ++k) best = std::min(best, exact(r * k / 100.0f / 7.5f));
  EXPECT_LE(exact(chosen_scale), best * 1.05f);
}

}  // namespace
}  // namespace mqb::test
