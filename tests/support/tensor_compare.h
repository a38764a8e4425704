// Tensor comparisons for tests: bit-exact (NaN == NaN, -0 != +0 not distinguished
// unless asked) and relative tolerance, with a message naming the first mismatch.
#pragma once
#include <gtest/gtest.h>

#include <ATen/core/Tensor.h>

namespace mqb::test {

::testing::AssertionResult tensors_bitwise_equal(const at::Tensor& actual, const at::Tensor& expected);
::testing::AssertionResult tensors_close(const at::Tensor& actual, const at::Tensor& expected, double rtol,
                                         double atol = 0.0);

}  // namespace mqb::test
