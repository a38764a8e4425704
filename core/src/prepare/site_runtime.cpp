// The site table and the mqb::quantize operator (see site_runtime.h).
//
// The kernel is registered as CompositeImplicitAutograd (TORCH_LIBRARY def with a
// function): autograd records the ATen ops FakeQuantize::forward runs, so gradients
// reach the input, the weights and the learnable quantizer tensors.
#include "site_runtime.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/sum.h>
#include <torch/library.h>

#include <mutex>
#include <unordered_map>

#include "mqb/error.h"

namespace mqb::prep {

namespace {

struct SiteTable {
  std::mutex mutex;
  std::unordered_map<int64_t, std::shared_ptr<SiteState>> sites;
  int64_t next_id = 1;
};

SiteTable& table() {
  static SiteTable* t = new SiteTable;  // never destroyed: kernels may run during exit
  return *t;
}

std::shared_ptr<SiteState> lookup(int64_t id) {
  SiteTable& t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  auto it = t.sites.find(id);
  if (it == t.sites.end())
    throw ModelError("mqb::quantize: site " + std::to_string(id) +
                     " is not registered (the graph was run without its PreparedModel; load it with "
                     "mqb::PreparedModel::load, or deploy it to plain TorchScript)");
  return it->second;
}

void push_tensor_key(std::vector<int64_t>& key, const at::Tensor& t) {
  if (!t.defined()) {
    key.push_back(0);
    return;
  }
  key.push_back(reinterpret_cast<int64_t>(t.unsafeGetTensorImpl()));
  key.push_back(static_cast<int64_t>(t._version()));
}

// Identity and version of the weight and, when asked, of the quantizer's learnable
// tensors. qparams are compared by value (see same_qparams): quantizers may return copies.
std::vector<int64_t> weight_key(FakeQuantize& fq, const at::Tensor& w, bool with_quantizer) {
  std::vector<int64_t> key;
  key.push_back(reinterpret_cast<int64_t>(w.data_ptr()));
  push_tensor_key(key, w);
  if (with_quantizer)
    for (const auto& p : fq.parameters()) push_tensor_key(key, p.second);
  return key;
}

bool same_tensor_value(const at::Tensor& a, const at::Tensor& b) {
  if (!a.defined() || !b.defined()) return a.defined() == b.defined();
  return a.scalar_type() == b.scalar_type() && a.sizes() == b.sizes() && at::equal(a, b);
}

at::Tensor quantize_kernel(const at::Tensor& x, int64_t site) {
  std::shared_ptr<SiteState> s = lookup(site);
  return run_site(*s, x);
}

}  // namespace

int64_t register_site(std::shared_ptr<SiteState> state) {
  SiteTable& t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  const int64_t id = t.next_id++;
  t.sites.emplace(id, std::move(state));
  return id;
}

void unregister_site(int64_t id) {
  SiteTable& t = table();
  std::lock_guard<std::mutex> lock(t.mutex);
  t.sites.erase(id);
}

at::Tensor run_site(SiteState& s, const at::Tensor& x) {
  FakeQuantize& fq = *s.fq;
  const bool observe = fq.observer_enabled();
  const bool quantize = fq.fake_quant_enabled();
  if (s.is_weight && observe && !quantize) {
    // Calibration: an unchanged weight gives the observer nothing new.
    std::vector<int64_t> key = weight_key(fq, x, false);
    if (key == s.observed_key) return x;
    {
      at::NoGradGuard no_grad;
      fq.forward(x.detach());
    }
    s.observed_key = std::move(key);
    s.cache_out.reset();
    return x;
  }
  if (s.is_weight && !observe && quantize && !s.collect) {
    bool needs_graph = false;
    if (at::GradMode::is_enabled()) {
      needs_graph = x.requires_grad();
      for (const auto& p : fq.parameters()) needs_graph = needs_graph || p.second.requires_grad();
    }
    if (!needs_graph) {
      std::vector<int64_t> key = weight_key(fq, x, true);
      const QParams q = fq.qparams();
      if (s.cache_out.defined() && key == s.cache_key && same_tensor_value(q.scale, s.cache_scale) &&
          same_tensor_value(q.zero_point, s.cache_zero_point)) {
        ++s.cache_hits;
        return s.cache_out;
      }
      at::NoGradGuard no_grad;
      s.cache_out = fq.forward(x).detach();
      // forward may touch the quantizer's tensors: key them after it
      s.cache_key = weight_key(fq, x, true);
      const QParams after = fq.qparams();
      s.cache_scale = after.scale.defined() ? after.scale.detach().clone() : at::Tensor();
      s.cache_zero_point = after.zero_point.defined() ? after.zero_point.detach().clone() : at::Tensor();
      return s.cache_out;
    }
  }
  at::Tensor y = fq.forward(x);
  if (s.collect && quantize) {
    at::NoGradGuard no_grad;
    const at::Tensor xd = x.detach().to(at::kDouble);
    const at::Tensor d = y.detach().to(at::kDouble).sub(xd);
    s.signal += xd.mul(xd).sum().item<double>();
    s.noise += d.mul(d).sum().item<double>();
    s.elements += x.numel();
  }
  return y;
}

}  // namespace mqb::prep

TORCH_LIBRARY(mqb, m) { m.def("quantize(Tensor x, int site) -> Tensor", &mqb::prep::quantize_kernel); }
