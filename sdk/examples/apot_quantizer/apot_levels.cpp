#include "apot_levels.h"

#include <ATen/TensorOperators.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/searchsorted.h>
#include <ATen/ops/sign.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace apot {

namespace {

// Every sum of one element per term (terms hold disjoint powers of two, so the sums are distinct).
std::vector<float> sums(const std::vector<std::vector<double>>& terms) {
  std::set<double> out{0.0};
  for (const auto& term : terms) {
    std::set<double> next;
    for (double partial : out)
      for (double v : term) next.insert(partial + v);
    out = next;
  }
  const double top = *out.rbegin();
  std::vector<float> levels;
  for (double v : out) levels.push_back(static_cast<float>(v / top));
  return levels;
}

}  // namespace

std::vector<float> magnitude_levels(int b) {
  const auto p = [](int e) { return std::ldexp(1.0, -e); };
  // The paper's tables for odd B (its code, build_power_value).
  if (b == 3) return sums({{0, p(1), p(2), p(4)}, {0, p(3)}});
  if (b == 5) return sums({{0, p(1), p(3), p(6)}, {0, p(2), p(4), p(7)}, {0, p(5)}});
  const int n = (b + 1) / 2;
  std::vector<std::vector<double>> terms(static_cast<size_t>(n));
  for (int j = 0; j < n; ++j) {
    const int bits = (j == n - 1 && b % 2 == 1) ? 1 : 2;
    terms[static_cast<size_t>(j)].push_back(0.0);
    for (int i = 0; i < (1 << bits) - 1; ++i) terms[static_cast<size_t>(j)].push_back(p(j + 1 + n * i));
  }
  return sums(terms);
}

bool is_signed(const mqb::QScheme& scheme) { return scheme.quant_min() < 0; }

int magnitude_bits(const mqb::QScheme& scheme) { return is_signed(scheme) ? scheme.bit - 1 : scheme.bit; }

at::Tensor levels_tensor(const mqb::QScheme& scheme) {
  std::vector<float> v = magnitude_levels(magnitude_bits(scheme));
  return at::from_blob(v.data(), {static_cast<int64_t>(v.size())}, at::kFloat).clone();
}

at::Tensor quantize_unit(const at::Tensor& u, const at::Tensor& levels) {
  // Midpoints between neighbouring levels: searchsorted gives the nearest level's index
  // (left side: a value exactly on a midpoint goes to the smaller level).
  const int64_t n = levels.numel();
  const at::Tensor mids = (levels.narrow(0, 0, n - 1) + levels.narrow(0, 1, n - 1)) * 0.5;
  const at::Tensor mag = u.abs().contiguous();
  const at::Tensor idx = at::searchsorted(mids, mag.reshape({-1}));
  return levels.index_select(0, idx).reshape(u.sizes()) * at::sign(u);
}

}  // namespace apot
