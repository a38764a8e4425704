// SGD with momentum and L2 weight decay (torch.optim.SGD's update rule), with state
// that can be saved and restored for exact resumption. Shared by `mqbench train` and QAT.
#pragma once
#include <ATen/core/Tensor.h>

#include <vector>

namespace mqb {

class Sgd {
 public:
  // `decay[i]` says whether parameter i receives weight decay (quantizer scales do not).
  Sgd(std::vector<at::Tensor> params, std::vector<bool> decay, double momentum, double weight_decay);
  void zero_grad();
  void step(double lr);
  // Cosine decay from `peak` to 0 over `total` steps.
  static double cosine_lr(double peak, int64_t step, int64_t total);
  const std::vector<at::Tensor>& velocity() const { return velocity_; }
  void set_velocity(const std::vector<at::Tensor>& v);

 private:
  std::vector<at::Tensor> params_, velocity_;
  std::vector<bool> decay_;
  double momentum_, weight_decay_;
};

}  // namespace mqb
