// FakeQuantizeBase (see mqb/fake_quantize_base.h).
#include "mqb/fake_quantize_base.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/full.h>
#include <ATen/ops/zeros.h>

#include "mqb/fake_quant_kernels.h"

#include <cmath>

namespace mqb {

namespace {
constexpr const char* kObserverPrefix = "activation_post_process.";
}

FakeQuantizeBase::FakeQuantizeBase(const QuantizerArgs& args, std::string class_name)
    : scheme_(args.qscheme), observer_(args.observer), class_name_(std::move(class_name)) {
  scheme_.validate();
  if (!observer_) throw ConfigError(class_name_ + ": created without an observer");
  scale_ = at::full({1}, 1.0f, at::kFloat);
  zero_point_ = at::zeros({1}, at::kInt);
  register_state("scale", &scale_);
  register_state("zero_point", &zero_point_);
}

void FakeQuantizeBase::register_state(const std::string& key, at::Tensor* member) {
  entries_.emplace_back(key, member);
}

int FakeQuantizeBase::bitwidth() const {
  return static_cast<int>(std::log2(static_cast<double>(scheme_.quant_max() - scheme_.quant_min() + 1)));
}

void FakeQuantizeBase::observe_and_update(const at::Tensor& x) {
  observer_->observe(x.detach());
  QParams q = observer_->calculate_qparams();
  assign(scale_, q.scale);
  assign(zero_point_, q.zero_point);
}

void FakeQuantizeBase::observe_or_sanitise_scale(const at::Tensor& x) {
  if (observer_enabled_) {
    observe_and_update(x);
    return;
  }
  at::NoGradGuard no_grad;
  scale_.abs_().clamp_min_(kObserverEps);
}

void FakeQuantizeBase::assign(at::Tensor& dst, const at::Tensor& src) {
  at::NoGradGuard no_grad;
  at::Tensor value = src.detach();
  if (dst.defined()) value = value.to(dst.scalar_type());
  if (dst.defined() && dst.numel() == value.numel()) {
    dst.copy_(value.reshape(dst.sizes()));  // as torch's copy_: dst keeps its shape
  } else if (dst.defined() && dst.requires_grad()) {
    dst.set_data(value.clone());
  } else {
    dst = value.clone();
  }
}

at::Tensor FakeQuantizeBase::make_parameter(const at::Tensor& values) {
  return values.detach().to(at::kFloat).clone().set_requires_grad(true);
}

void FakeQuantizeBase::check_input(const at::Tensor& x) const { check_fake_quant_input(x, axis(), class_name_); }

StateDict FakeQuantizeBase::state() const {
  StateDict out;
  for (const auto& e : entries_)
    if (e.second->defined()) out[e.first] = e.second->detach().clone();  // e.g. AdaRound alpha before init
  out["fake_quant_enabled"] = at::full({1}, fake_quant_enabled_ ? 1 : 0, at::kByte);
  out["observer_enabled"] = at::full({1}, observer_enabled_ ? 1 : 0, at::kByte);
  for (const auto& kv : observer_->state()) out[kObserverPrefix + kv.first] = kv.second;
  return out;
}

void FakeQuantizeBase::load_state(const StateDict& state) {
  StateDict observer_state;
  for (const auto& kv : state) {
    const std::string& key = kv.first;
    if (key.rfind(kObserverPrefix, 0) == 0) {
      observer_state[key.substr(std::string(kObserverPrefix).size())] = kv.second;
    } else if (key == "fake_quant_enabled") {
      fake_quant_enabled_ = kv.second.item<int>() != 0;
    } else if (key == "observer_enabled") {
      observer_enabled_ = kv.second.item<int>() != 0;
    } else {
      bool found = false;
      for (auto& e : entries_) {
        if (e.first != key) continue;
        found = true;
        // Learnable parameters keep their identity (an optimizer holds them): data is
        // copied in place, or swapped when the shape differs (MQBench's load hook).
        if (e.second->defined() && e.second->requires_grad()) {
          at::NoGradGuard no_grad;
          const at::Tensor v = kv.second.detach().to(e.second->scalar_type());
          if (e.second->sizes() == v.sizes()) e.second->copy_(v);
          else e.second->set_data(v.clone());
        } else {
          *e.second = kv.second.detach().clone();
        }
      }
      if (!found) throw DataError(class_name_ + ": unknown state entry '" + key + "'");
    }
  }
  for (const auto& e : entries_)
    if (e.second->defined() && !state.count(e.first)) throw DataError(class_name_ + ": state entry '" + e.first + "' is missing");
  observer_->load_state(observer_state);
}

}  // namespace mqb
