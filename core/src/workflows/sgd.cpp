// SGD with momentum (see sgd.h).
#include "mqb/host/sgd.h"

#include <ATen/ops/cross_entropy_loss.h>
#include <ATen/ops/zeros_like.h>

#include <cmath>

#include "mqb/error.h"

namespace mqb {

Sgd::Sgd(std::vector<at::Tensor> params, std::vector<bool> decay, double momentum, double weight_decay)
    : params_(std::move(params)), decay_(std::move(decay)), momentum_(momentum), weight_decay_(weight_decay) {
  for (const auto& p : params_) velocity_.push_back(at::zeros_like(p));
}

void Sgd::zero_grad() {
  for (auto& p : params_)
    if (p.grad().defined()) p.mutable_grad().zero_();
}

void Sgd::step(double lr) {
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i].grad().defined()) continue;
    at::Tensor g = decay_[i] ? params_[i].grad().add(params_[i], weight_decay_) : params_[i].grad();
    velocity_[i].mul_(momentum_).add_(g);
    params_[i].sub_(velocity_[i], lr);
  }
}

double Sgd::cosine_lr(double peak, int64_t step, int64_t total) {
  return 0.5 * peak * (1 + std::cos(M_PI * static_cast<double>(step) / static_cast<double>(std::max<int64_t>(total, 1))));
}

void Sgd::set_velocity(const std::vector<at::Tensor>& v) {
  if (v.size() != velocity_.size()) throw DataError("optimizer state does not match the model's parameters");
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i].sizes() != velocity_[i].sizes()) throw DataError("optimizer state does not match the model's parameters");
    velocity_[i] = v[i].clone();
  }
}

double train_epoch(const LabeledData& data, const at::Tensor& order, int64_t batch_size, Sgd& sgd, double peak_lr,
                   int64_t& step, int64_t total_steps, Progress& progress, const BatchForward& forward) {
  const int64_t n = order.size(0);
  const int64_t batches = (n + batch_size - 1) / batch_size;
  double loss_sum = 0;
  for (int64_t b = 0; b < batches; ++b) {
    const at::Tensor idx = order.narrow(0, b * batch_size, std::min(batch_size, n - b * batch_size));
    const at::Tensor loss = at::cross_entropy_loss(forward(data.inputs.index_select(0, idx)), data.labels.index_select(0, idx));
    sgd.zero_grad();
    loss.backward();
    sgd.step(Sgd::cosine_lr(peak_lr, step++, total_steps));
    loss_sum += loss.item<double>();
    char note[32];
    std::snprintf(note, sizeof note, "loss %.3f", loss_sum / static_cast<double>(b + 1));
    progress.advance(1, note);
  }
  progress.finish();
  return loss_sum / static_cast<double>(batches);
}

}  // namespace mqb
