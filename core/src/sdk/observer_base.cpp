// ObserverBase: shared min/max state, qparams, and uniform state save/load.
#include "mqb/observer_base.h"

#include <ATen/ops/full.h>
#include <ATen/ops/maximum.h>
#include <ATen/ops/minimum.h>

namespace mqb {

namespace {
at::Tensor inf_scalar(float v) { return at::full({}, v, at::kFloat); }
}  // namespace

ObserverBase::ObserverBase(const ObserverArgs& args, std::string class_name)
    : scheme_(args.qscheme), class_name_(std::move(class_name)) {
  scheme_.validate();
  register_state("min_val", &min_val_, [] { return inf_scalar(INFINITY); });
  register_state("max_val", &max_val_, [] { return inf_scalar(-INFINITY); });
}

void ObserverBase::register_state(const std::string& key, at::Tensor* member,
                                  std::function<at::Tensor()> initial) {
  *member = initial();
  entries_.push_back({key, member, std::move(initial)});
}

QParams ObserverBase::calculate_qparams() {
  QParams q = qparams_from_minmax(min_val_, max_val_, scheme_, class_name_);
  if (scheme_.pot_scale) q.scale = round_scale_to_pot(q.scale);
  return q;
}

void ObserverBase::set_range(const at::Tensor& min_val, const at::Tensor& max_val) {
  min_val_ = min_val.detach().to(at::kFloat).clone();
  max_val_ = max_val.detach().to(at::kFloat).clone();
}

bool ObserverBase::has_data() const {
  return !(max_val_.dim() == 0 && std::isinf(max_val_.item<float>()) && max_val_.item<float>() < 0);
}

std::optional<at::Tensor> ObserverBase::prepare_input(const at::Tensor& x) const {
  if (!x.defined() || x.numel() == 0) return std::nullopt;
  if (scheme_.per_channel && scheme_.ch_axis >= x.dim())
    throw DataError(class_name_ + ": per-channel axis " + std::to_string(scheme_.ch_axis) +
                    " does not exist in a tensor of " + std::to_string(x.dim()) + " dims");
  return x.detach().to(at::kFloat).contiguous();
}

namespace {
void check_same_channels(const at::Tensor& state, const at::Tensor& batch, const std::string& who) {
  if (state.dim() > 0 && state.numel() != batch.numel())
    throw DataError(who + ": this batch has " + std::to_string(batch.numel()) + " channel(s), earlier batches had " +
                    std::to_string(state.numel()) + "; per-channel statistics need the same channel count");
}
}  // namespace

void ObserverBase::accumulate_running(const at::Tensor& lo, const at::Tensor& hi) {
  check_same_channels(min_val_, lo, class_name_);
  min_val_ = at::minimum(min_val_, lo);
  max_val_ = at::maximum(max_val_, hi);
}

void ObserverBase::accumulate_ema(const at::Tensor& lo, const at::Tensor& hi, double ratio) {
  if (!has_data()) {
    min_val_ = lo.clone();
    max_val_ = hi.clone();
    return;
  }
  check_same_channels(min_val_, lo, class_name_);
  min_val_ = ema_update(min_val_, lo, ratio);
  max_val_ = ema_update(max_val_, hi, ratio);
}

StateDict ObserverBase::state() const {
  StateDict out;
  for (const auto& e : entries_) out[e.key] = e.member->clone();
  return out;
}

void ObserverBase::load_state(const StateDict& state) {
  for (const auto& kv : state) {
    bool found = false;
    for (const auto& e : entries_) found = found || e.key == kv.first;
    if (!found) throw DataError(class_name_ + ": unknown state entry '" + kv.first + "'");
  }
  for (const auto& e : entries_) {
    auto it = state.find(e.key);
    if (it == state.end()) throw DataError(class_name_ + ": state entry '" + e.key + "' is missing");
    *e.member = it->second.clone();
  }
}

void ObserverBase::reset() {
  for (auto& e : entries_) *e.member = e.initial();
}

}  // namespace mqb
