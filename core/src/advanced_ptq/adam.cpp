// Adam (see adam.h).
#include "adam.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/zeros_like.h>

#include <cmath>

namespace mqb::aptq {

Adam::Adam(std::vector<at::Tensor> params, double beta1, double beta2, double eps)
    : params_(std::move(params)), beta1_(beta1), beta2_(beta2), eps_(eps) {
  for (const auto& p : params_) {
    exp_avg_.push_back(at::zeros_like(p));
    exp_avg_sq_.push_back(at::zeros_like(p));
  }
}

void Adam::zero_grad() {
  for (auto& p : params_)
    if (p.grad().defined()) p.mutable_grad().zero_();
}

void Adam::step(double lr) {
  at::NoGradGuard no_grad;
  ++t_;
  const double bias1 = 1 - std::pow(beta1_, static_cast<double>(t_));
  const double bias2 = 1 - std::pow(beta2_, static_cast<double>(t_));
  for (size_t i = 0; i < params_.size(); ++i) {
    if (!params_[i].grad().defined()) continue;
    const at::Tensor& g = params_[i].grad();
    exp_avg_[i].mul_(beta1_).add_(g, 1 - beta1_);
    exp_avg_sq_[i].mul_(beta2_).addcmul_(g, g, 1 - beta2_);
    // torch.optim.Adam (single-tensor path): denom = sqrt(v) / sqrt(bias2) + eps
    const at::Tensor denom = exp_avg_sq_[i].sqrt().div_(std::sqrt(bias2)).add_(eps_);
    params_[i].addcdiv_(exp_avg_[i], denom, -lr / bias1);
  }
}

}  // namespace mqb::aptq
