// Tensor comparisons for tests (see tensor_compare.h).
#include "support/tensor_compare.h"

#include <cmath>

namespace mqb::test {

namespace {
::testing::AssertionResult same_shape(const at::Tensor& a, const at::Tensor& e) {
  if (a.numel() != e.numel() || (a.dim() > 0 && e.dim() > 0 && a.sizes() != e.sizes()))
    return ::testing::AssertionFailure() << "shape " << a.sizes() << " != expected " << e.sizes();
  return ::testing::AssertionSuccess();
}

// Both tensors as flat float64 (exact for every float32 and int32 value).
struct FlatPair {
  at::Tensor a, e;
  FlatPair(const at::Tensor& actual, const at::Tensor& expected)
      : a(actual.detach().to(at::kDouble).contiguous().reshape({-1})),
        e(expected.detach().to(at::kDouble).contiguous().reshape({-1})) {}
  const double* pa() const { return a.data_ptr<double>(); }
  const double* pe() const { return e.data_ptr<double>(); }
  int64_t size() const { return a.numel(); }
};
}  // namespace

::testing::AssertionResult tensors_bitwise_equal(const at::Tensor& actual, const at::Tensor& expected) {
  if (auto r = same_shape(actual, expected); !r) return r;
  const FlatPair f(actual, expected);
  const double *pa = f.pa(), *pe = f.pe();
  for (int64_t i = 0; i < f.size(); ++i) {
    if (std::isnan(pa[i]) && std::isnan(pe[i])) continue;
    if (pa[i] != pe[i])
      return ::testing::AssertionFailure() << "element " << i << ": " << pa[i] << " != expected " << pe[i]
                                           << " (diff " << pa[i] - pe[i] << ")";
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult tensors_close(const at::Tensor& actual, const at::Tensor& expected, double rtol,
                                         double atol) {
  if (auto r = same_shape(actual, expected); !r) return r;
  const FlatPair f(actual, expected);
  const double *pa = f.pa(), *pe = f.pe();
  for (int64_t i = 0; i < f.size(); ++i) {
    if (std::isnan(pa[i]) && std::isnan(pe[i])) continue;
    if (std::isinf(pe[i]) && pa[i] == pe[i]) continue;
    if (!(std::fabs(pa[i] - pe[i]) <= atol + rtol * std::fabs(pe[i])))
      return ::testing::AssertionFailure() << "element " << i << ": " << pa[i] << " vs expected " << pe[i]
                                           << " (rtol " << rtol << ", atol " << atol << ")";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace mqb::test
