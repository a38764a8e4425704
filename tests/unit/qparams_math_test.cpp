// The shared qparams math on hand-derived numbers (MQBench spec §0.4).
#include <gtest/gtest.h>

#include <ATen/ops/full.h>
#include <ATen/ops/tensor.h>

#include "mqb/qparams_math.h"

using namespace mqb;

namespace {
at::Tensor scalar(float v) { return at::full({}, v, at::kFloat); }
QScheme scheme(int bit, bool sym, bool range = false) {
  QScheme s;
  s.bit = bit;
  s.symmetric = sym;
  s.symmetric_range = range;
  return s;
}
}  // namespace

TEST(QParamsMath, SymmetricUsesHalfTheRange) {
  // amax = 2.55: 8-bit [-128,127] -> 2.55 / 127.5; symmetric_range [-127,127] -> 2.55 / 127.
  QParams q = qparams_from_minmax(scalar(-1.0f), scalar(2.55f), scheme(8, true), "t");
  EXPECT_EQ(q.scale.item<float>(), 2.55f / 127.5f);
  EXPECT_EQ(q.zero_point.item<int>(), 0);
  EXPECT_EQ(q.scale.sizes(), at::IntArrayRef({1}));
  q = qparams_from_minmax(scalar(-1.0f), scalar(2.55f), scheme(8, true, true), "t");
  EXPECT_EQ(q.scale.item<float>(), 2.55f / 127.0f);
  q = qparams_from_minmax(scalar(-3.0f), scalar(1.0f), scheme(4, true), "t");
  EXPECT_EQ(q.scale.item<float>(), 3.0f / 7.5f);
}

TEST(QParamsMath, AffineZeroPointRoundsHalfToEvenAndClamps) {
  // range [-1, 3] over 255 steps: s = 4/255, z = -round(-1 / s) = round(63.75) = 64.
  QParams q = qparams_from_minmax(scalar(-1.0f), scalar(3.0f), scheme(8, false), "t");
  EXPECT_EQ(q.scale.item<float>(), 4.0f / 255.0f);
  EXPECT_EQ(q.zero_point.item<int>(), 64);
  EXPECT_EQ(q.zero_point.scalar_type(), at::kInt);
  // All-positive data: min is taken as 0, so z = 0.
  q = qparams_from_minmax(scalar(0.5f), scalar(3.0f), scheme(2, false), "t");
  EXPECT_EQ(q.scale.item<float>(), 1.0f);
  EXPECT_EQ(q.zero_point.item<int>(), 0);
  // All-negative data: z = qmax.
  q = qparams_from_minmax(scalar(-3.0f), scalar(-1.0f), scheme(2, false), "t");
  EXPECT_EQ(q.zero_point.item<int>(), 3);
}

TEST(QParamsMath, EdgeCases) {
  // Nothing observed: torch's (1.0, 0).
  QParams q = qparams_from_minmax(scalar(INFINITY), scalar(-INFINITY), scheme(8, true), "t");
  EXPECT_EQ(q.scale.item<float>(), 1.0f);
  // All zeros: the scale collapses to eps = 2^-23.
  q = qparams_from_minmax(scalar(0.0f), scalar(0.0f), scheme(8, false), "t");
  EXPECT_EQ(q.scale.item<float>(), 1.1920928955078125e-07f);
  // min > max and NaN bounds are errors, never a NaN scale.
  EXPECT_THROW(qparams_from_minmax(scalar(2.0f), scalar(1.0f), scheme(8, true), "t"), DataError);
  EXPECT_THROW(qparams_from_minmax(scalar(NAN), scalar(1.0f), scheme(8, true), "t"), DataError);
}

TEST(QParamsMath, PerChannelAndPowerOfTwo) {
  at::Tensor lo = at::tensor({-1.0f, -0.5f}), hi = at::tensor({1.0f, 0.25f});
  QParams q = qparams_from_minmax(lo, hi, scheme(8, true, true), "t");
  ASSERT_EQ(q.scale.numel(), 2);
  EXPECT_EQ(q.scale[0].item<float>(), 1.0f / 127.0f);
  EXPECT_EQ(q.scale[1].item<float>(), 0.5f / 127.0f);
  // 2^round(log2 s): 1/127 = 2^-6.99 -> 2^-7; 0.3 = 2^-1.74 -> 2^-2.
  at::Tensor pot = round_scale_to_pot(at::tensor({1.0f / 127.0f, 0.3f}));
  EXPECT_EQ(pot[0].item<float>(), 0.0078125f);
  EXPECT_EQ(pot[1].item<float>(), 0.25f);
}
