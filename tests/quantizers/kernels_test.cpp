// The SDK's fused fake-quant kernels against ATen's own kernels, bit for bit, on
// random data that includes rounding ties, values outside the range, zeros, NaN,
// +-inf and huge magnitudes; per-tensor and per-channel on several axes; tensors
// large enough to span many parallel chunks.
#include <gtest/gtest.h>

#include <ATen/ops/_fake_quantize_learnable_per_channel_affine.h>
#include <ATen/ops/_fake_quantize_learnable_per_tensor_affine.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/fake_quantize_per_channel_affine.h>
#include <ATen/ops/fake_quantize_per_tensor_affine.h>
#include <ATen/ops/fake_quantize_per_tensor_affine_cachemask.h>
#include <ATen/ops/zeros.h>
#include <ATen/ops/full.h>
#include <ATen/ops/randint.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/tensor.h>
#include <ATen/Parallel.h>

#include <cmath>

#include "mqb/fake_quant_kernels.h"
#include "support/tensor_compare.h"

namespace mqb::test {
namespace {

// n values: Gaussian with spread `spread`, every 7th an exact tie (k + 0.5) * scale,
// every 11th far out of range, and a few specials at the front.
at::Tensor probe(int64_t n, double spread, float scale, uint64_t seed) {
  at::manual_seed(seed);
  at::Tensor x = at::randn({n}, at::kFloat).mul(spread);
  at::Tensor k = at::randint(-300, 300, {n}, at::kFloat);
  float* px = x.data_ptr<float>();
  const float* pk = k.data_ptr<float>();
  for (int64_t i = 0; i < n; ++i) {
    if (i % 7 == 3) px[i] = (pk[i] + 0.5f) * scale;
    if (i % 11 == 5) px[i] = pk[i] * 100.0f * scale;
  }
  const float specials[] = {NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 3e10f, 0.0f, -0.0f, 0.5f * scale, -0.5f * scale,
                            2.5f * scale, -2.5f * scale};
  for (size_t i = 0; i < sizeof(specials) / sizeof(float) && static_cast<int64_t>(i) < n; ++i) px[i] = specials[i];
  return x;
}

struct Range {
  int64_t qmin, qmax, zp;
};
const Range kRanges[] = {{0, 255, 0}, {0, 255, 37}, {-128, 127, 0}, {-127, 127, 0}, {0, 15, 3}, {-8, 7, 0}, {0, 65535, 1000}};

TEST(FakeQuantKernels, PerTensorForwardAndBackwardEqualATen) {
  for (const float scale : {0.1f, 0.125f, 0.0371f, 3.0f}) {
    for (const Range& r : kRanges) {
      const at::Tensor x = probe(100003, 8.0 * scale * static_cast<double>(r.qmax - r.qmin) / 8.0, scale, 7);
      const at::Tensor dy = at::randn({x.numel()}, at::kFloat);
      at::Tensor xa = x.clone().set_requires_grad(true);
      at::Tensor ya = at::fake_quantize_per_tensor_affine(xa, scale, r.zp, r.qmin, r.qmax);
      ya.backward(dy);
      const at::Tensor s = at::full({1}, scale, at::kFloat);
      const at::Tensor z = at::full({1}, r.zp, at::kInt);
      SCOPED_TRACE("scale " + std::to_string(scale) + " range [" + std::to_string(r.qmin) + "," +
                   std::to_string(r.qmax) + "] zp " + std::to_string(r.zp));
      EXPECT_TRUE(tensors_bitwise_equal(fq_affine_forward(x, s, z, r.qmin, r.qmax, -1), ya.detach()));
      EXPECT_TRUE(tensors_bitwise_equal(fq_affine_backward(dy, x, s, z, r.qmin, r.qmax, -1), xa.grad()));
      // The packed-mask pair autograd uses per-tensor.
      auto [ym, mask] = fq_affine_forward_with_mask(x, s, z, r.qmin, r.qmax);
      EXPECT_TRUE(tensors_bitwise_equal(ym, ya.detach()));
      EXPECT_TRUE(tensors_bitwise_equal(fq_affine_backward_from_mask(dy, mask), xa.grad()));
      // Through autograd as the plugins use it.
      at::Tensor xb = x.clone().set_requires_grad(true);
      at::Tensor yb = fake_quantize_affine(xb, s, z, r.qmin, r.qmax, -1);
      yb.backward(dy);
      EXPECT_TRUE(tensors_bitwise_equal(yb.detach(), ya.detach()));
      EXPECT_TRUE(tensors_bitwise_equal(xb.grad(), xa.grad()));
    }
  }
}

TEST(FakeQuantKernels, PerChannelForwardAndBackwardEqualATenOnEveryAxis) {
  const at::Tensor base = probe(6 * 5 * 7 * 9, 3.0, 0.05f, 11).reshape({6, 5, 7, 9});
  for (int64_t axis = 0; axis < 4; ++axis) {
    const int64_t C = base.size(axis);
    at::Tensor s = at::rand({C}, at::kFloat).mul(0.1).add(0.01);
    s.data_ptr<float>()[0] = 0.05f;  // the ties of probe() are ties for channel 0
    at::Tensor z = at::randint(0, 40, {C}, at::kInt);
    const at::Tensor dy = at::randn(base.sizes(), at::kFloat);
    at::Tensor xa = base.clone().set_requires_grad(true);
    at::Tensor ya = at::fake_quantize_per_channel_affine(xa, s, z, axis, 0, 255);
    ya.backward(dy);
    SCOPED_TRACE("axis " + std::to_string(axis));
    EXPECT_TRUE(tensors_bitwise_equal(fq_affine_forward(base, s, z, 0, 255, axis), ya.detach()));
    EXPECT_TRUE(tensors_bitwise_equal(fq_affine_backward(dy, base, s, z, 0, 255, axis), xa.grad()));
    // Non-contiguous input (a transposed view) gives the same values.
    const at::Tensor t = base.transpose(0, 3).contiguous().transpose(0, 3);
    EXPECT_TRUE(tensors_bitwise_equal(fq_affine_forward(t, s, z, 0, 255, axis), ya.detach()));
  }
}

TEST(FakeQuantKernels, LearnablePerTensorEqualsATen) {
  for (const Range& r : kRanges) {
    for (const float zpf : {static_cast<float>(r.zp), static_cast<float>(r.zp) + 0.4f, static_cast<float>(r.zp) + 0.5f}) {
      const float scale = 0.0371f;
      const at::Tensor x = probe(70001, 2.0 * scale * static_cast<double>(r.qmax - r.qmin), scale, 3);
      const at::Tensor dy = at::randn({x.numel()}, at::kFloat);
      const double gf = 1.0 / std::sqrt(static_cast<double>(x.numel()) * static_cast<double>(r.qmax));
      at::Tensor xa = x.clone().set_requires_grad(true);
      at::Tensor sa = at::full({1}, scale, at::kFloat).set_requires_grad(true);
      at::Tensor za = at::full({1}, zpf, at::kFloat).set_requires_grad(true);
      at::Tensor ya = at::_fake_quantize_learnable_per_tensor_affine(xa, sa, za, r.qmin, r.qmax, gf);
      ya.backward(dy);
      at::Tensor xb = x.clone().set_requires_grad(true);
      at::Tensor sb = at::full({1}, scale, at::kFloat).set_requires_grad(true);
      at::Tensor zb = at::full({1}, zpf, at::kFloat).set_requires_grad(true);
      at::Tensor yb = fake_quantize_learnable(xb, sb, zb, r.qmin, r.qmax, -1, gf);
      yb.backward(dy);
      SCOPED_TRACE("range [" + std::to_string(r.qmin) + "," + std::to_string(r.qmax) + "] zp " + std::to_string(zpf));
      EXPECT_TRUE(tensors_bitwise_equal(yb.detach(), ya.detach()));
      EXPECT_TRUE(tensors_bitwise_equal(xb.grad(), xa.grad()));
      // ATen sums 70001 float terms in float; we sum in double.
      EXPECT_TRUE(tensors_close(sb.grad(), sa.grad(), 1e-4, 1e-4));
      EXPECT_TRUE(tensors_close(zb.grad(), za.grad(), 1e-4, 1e-4));
    }
  }
}

TEST(FakeQuantKernels, LearnablePerChannelEqualsATen) {
  const at::Tensor x = probe(8 * 3 * 50, 1.5, 0.02f, 5).reshape({8, 3, 50});
  const at::Tensor dy = at::randn(x.sizes(), at::kFloat);
  for (int64_t axis = 0; axis < 3; ++axis) {
    const int64_t C = x.size(axis);
    const at::Tensor s0 = at::rand({C}, at::kFloat).mul(0.05).add(0.01);
    const at::Tensor z0 = at::randint(0, 20, {C}, at::kFloat).add(0.3);
    const double gf = 1.0 / std::sqrt(static_cast<double>(x.numel() / C) * 255.0);
    at::Tensor xa = x.clone().set_requires_grad(true), sa = s0.clone().set_requires_grad(true),
               za = z0.clone().set_requires_grad(true);
    at::Tensor ya = at::_fake_quantize_learnable_per_channel_affine(xa, sa, za, axis, 0, 255, gf);
    ya.backward(dy);
    at::Tensor xb = x.clone().set_requires_grad(true), sb = s0.clone().set_requires_grad(true),
               zb = z0.clone().set_requires_grad(true);
    at::Tensor yb = fake_quantize_learnable(xb, sb, zb, 0, 255, axis, gf);
    yb.backward(dy);
    SCOPED_TRACE("axis " + std::to_string(axis));
    EXPECT_TRUE(tensors_bitwise_equal(yb.detach(), ya.detach()));
    EXPECT_TRUE(tensors_bitwise_equal(xb.grad(), xa.grad()));
    EXPECT_TRUE(tensors_close(sb.grad(), sa.grad(), 1e-4, 1e-5));
    EXPECT_TRUE(tensors_close(zb.grad(), za.grad(), 1e-4, 1e-5));
  }
}

TEST(FakeQuantKernels, ResultsDoNotDependOnTheThreadCount) {
  const at::Tensor x = probe(1 << 20, 3.0, 0.01f, 9);
  const at::Tensor dy = at::randn({x.numel()}, at::kFloat);
  const at::Tensor s = at::full({1}, 0.01f, at::kFloat), z = at::full({1}, 3.0f, at::kFloat);
  auto run = [&] { return fq_learnable_backward(dy, x, s, z, 0, 255, -1, 0.001); };
  const int threads = at::get_num_threads();
  at::set_num_threads(1);
  auto one = run();
  at::set_num_threads(2);
  auto two = run();
  at::set_num_threads(threads);
  EXPECT_TRUE(tensors_bitwise_equal(std::get<0>(one), std::get<0>(two)));
  EXPECT_TRUE(tensors_bitwise_equal(std::get<1>(one), std::get<1>(two)));
  EXPECT_TRUE(tensors_bitwise_equal(std::get<2>(one), std::get<2>(two)));
  // Per-channel on the last axis (one element per run) as well.
  const at::Tensor x2 = x.reshape({-1, 64}), dy2 = dy.reshape({-1, 64});
  const at::Tensor s2 = at::full({64}, 0.01f, at::kFloat), z2 = at::full({64}, 3.0f, at::kFloat);
  at::set_num_threads(1);
  auto pc_one = fq_learnable_backward(dy2, x2, s2, z2, 0, 255, 1, 0.001);
  at::set_num_threads(2);
  auto pc_two = fq_learnable_backward(dy2, x2, s2, z2, 0, 255, 1, 0.001);
  at::set_num_threads(threads);
  EXPECT_TRUE(tensors_bitwise_equal(std::get<0>(pc_one), std::get<0>(pc_two)));
  EXPECT_TRUE(tensors_bitwise_equal(std::get<1>(pc_one), std::get<1>(pc_two)));
  EXPECT_TRUE(tensors_bitwise_equal(std::get<2>(pc_one), std::get<2>(pc_two)));
}

// Bit j of mask byte i is element 8i + j of ATen's cache mask (lengths not a multiple
// of 8 included: the last byte's high bits stay 0).
TEST(FakeQuantKernels, PackedMaskBitsAreATensCacheMask) {
  for (const int64_t n : {int64_t{1}, int64_t{13}, int64_t{16384 * 3 + 5}}) {
    const at::Tensor x = probe(n, 2.0, 0.02f, 19);
    const at::Tensor aten_mask =
        std::get<1>(at::fake_quantize_per_tensor_affine_cachemask(x, 0.02, 128, 0, 255)).contiguous();
    auto [y, bits] = fq_affine_forward_with_mask(x, at::full({1}, 0.02f, at::kFloat), at::full({1}, 128, at::kInt), 0, 255);
    ASSERT_EQ(bits.numel(), (n + 7) / 8);
    const bool* pm = aten_mask.data_ptr<bool>();
    const uint8_t* pb = bits.data_ptr<uint8_t>();
    int64_t wrong = 0;
    for (int64_t i = 0; i < n; ++i) wrong += ((pb[i / 8] >> (i % 8)) & 1) != (pm[i] ? 1 : 0);
    for (int64_t i = n; i < 8 * bits.numel(); ++i) wrong += (pb[i / 8] >> (i % 8)) & 1;
    EXPECT_EQ(wrong, 0) << "n = " << n;
  }
}

TEST(FakeQuantKernels, RejectsBadArguments) {
  EXPECT_THROW(fq_affine_backward_from_mask(at::randn({17}), at::zeros({2}, at::kByte)), DataError);  // needs 3 bytes
  EXPECT_THROW(fq_affine_backward_from_mask(at::randn({16}), at::zeros({2}, at::kBool)), DataError);
  const at::Tensor x = at::randn({4, 3});
  EXPECT_THROW(fq_affine_forward(x.to(at::kInt), at::ones({1}), at::zeros({1}), 0, 255, -1), DataError);
  EXPECT_THROW(fq_affine_forward(x, at::ones({2}), at::zeros({2}), 0, 255, 0), DataError);  // 4 channels
  EXPECT_THROW(fq_affine_forward(x, at::ones({4}), at::zeros({4}), 0, 255, 2), DataError);  // no axis 2
  EXPECT_THROW(check_fake_quant_input(at::Tensor(), -1, "t"), DataError);
  // Zero points outside the range, or NaN (a zero learned scale upstream), as ATen refuses them.
  EXPECT_THROW(fq_affine_forward(x, at::ones({1}), at::full({1}, 300, at::kInt), 0, 255, -1), DataError);
  EXPECT_THROW(fq_learnable_forward(x, at::ones({1}), at::full({1}, NAN, at::kFloat), 0, 255, -1), DataError);
  EXPECT_THROW(fq_learnable_backward(x, x, at::ones({1}), at::full({1}, NAN, at::kFloat), 0, 255, -1, 1.0), DataError);
}

}  // namespace
}  // namespace mqb::test
