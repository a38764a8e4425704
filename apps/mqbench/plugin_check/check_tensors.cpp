#include "check_tensors.h"

#include <ATen/TensorOperators.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/isfinite.h>
#include <ATen/ops/isnan.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/round.h>

#include <sstream>

namespace mqb::check {

std::vector<NamedScheme> checked_schemes() {
  QScheme pt;
  pt.bit = 8;
  pt.symmetric = false;
  QScheme pc;
  pc.bit = 8;
  pc.symmetric = true;
  pc.per_channel = true;
  pc.ch_axis = 0;
  QScheme pts = pt;
  pts.symmetric = true;
  return {{"per_tensor", pt}, {"per_tensor_symmetric", pts}, {"per_channel", pc}};
}

at::Tensor sample_batch(uint64_t seed, int index) {
  auto gen = at::detail::createCPUGenerator(seed * 1000003u + static_cast<uint64_t>(index));
  const at::Tensor spread = at::arange(16, at::kFloat).div(6.0).add(0.5).view({16, 1, 1, 1});
  return at::randn({16, 8, 6, 6}, gen, at::kFloat).mul(spread).add(0.3);
}

at::Tensor normal_like(const at::Tensor& like, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed * 7919u + 17u);
  return at::randn(like.sizes(), gen, at::kFloat);
}

std::string bit_difference(const at::Tensor& a, const at::Tensor& b) {
  if (a.defined() != b.defined()) return "one tensor is undefined";
  if (!a.defined()) return "";
  if (a.sizes() != b.sizes()) {
    std::ostringstream os;
    os << "shape " << a.sizes() << " vs " << b.sizes();
    return os.str();
  }
  if (a.scalar_type() != b.scalar_type())
    return std::string("dtype ") + c10::toString(a.scalar_type()) + " vs " + c10::toString(b.scalar_type());
  const at::Tensor na = at::isnan(a.detach()), nb = at::isnan(b.detach());
  if (!at::equal(na, nb)) return "NaN at different places";
  if (!at::equal(a.detach().masked_fill(na, 0), b.detach().masked_fill(nb, 0))) {
    const at::Tensor d = (a.detach().to(at::kDouble) - b.detach().to(at::kDouble)).abs().masked_fill(na, 0);
    std::ostringstream os;
    os << "values differ (max |difference| " << d.max().item<double>() << ")";
    return os.str();
  }
  return "";
}

std::string state_difference(const StateDict& a, const StateDict& b) {
  for (const auto& [k, v] : a) {
    auto it = b.find(k);
    if (it == b.end()) return "key '" + k + "' missing after the round trip";
    const std::string d = bit_difference(v, it->second);
    if (!d.empty()) return "'" + k + "': " + d;
  }
  for (const auto& kv : b)
    if (!a.count(kv.first)) return "key '" + kv.first + "' appeared after the round trip";
  return "";
}

std::string qparams_problem(const QParams& q, const QScheme& scheme, int64_t channels) {
  if (!q.scale.defined() || !q.zero_point.defined()) return "scale or zero point undefined";
  if (q.scale.numel() != channels || q.zero_point.numel() != channels) {
    std::ostringstream os;
    os << "expected " << channels << " value(s), got scale " << q.scale.sizes() << ", zero point "
       << q.zero_point.sizes();
    return os.str();
  }
  const at::Tensor s = q.scale.detach().to(at::kDouble);
  if (!at::isfinite(s).all().item<bool>() || !(s > 0).all().item<bool>())
    return "scale not finite and positive: " + preview(s);
  const at::Tensor z = q.zero_point.detach().to(at::kDouble);
  if (!at::isfinite(z).all().item<bool>()) return "zero point not finite: " + preview(z);
  const at::Tensor zr = at::round(z);
  if (!(zr >= static_cast<double>(scheme.quant_min())).all().item<bool>() ||
      !(zr <= static_cast<double>(scheme.quant_max())).all().item<bool>())
    return "zero point outside [" + std::to_string(scheme.quant_min()) + ", " +
           std::to_string(scheme.quant_max()) + "]: " + preview(z);
  return "";
}

std::string preview(const at::Tensor& t) {
  const at::Tensor v = t.detach().to(at::kDouble).reshape({-1});
  std::ostringstream os;
  os << "[";
  for (int64_t i = 0; i < std::min<int64_t>(v.numel(), 4); ++i) os << (i ? ", " : "") << v[i].item<double>();
  if (v.numel() > 4) os << ", ... (" << v.numel() << " values)";
  os << "]";
  return os.str();
}

}  // namespace mqb::check
