// Adam with torch.optim.Adam's update rule (no weight decay, no amsgrad), for the
// rounding variables and activation scales of reconstruction.
#pragma once
#include <ATen/core/Tensor.h>

#include <vector>

namespace mqb::aptq {

class Adam {
 public:
  explicit Adam(std::vector<at::Tensor> params, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8);
  void zero_grad();
  void step(double lr);
  bool empty() const { return params_.empty(); }

 private:
  std::vector<at::Tensor> params_, exp_avg_, exp_avg_sq_;
  double beta1_, beta2_, eps_;
  int64_t t_ = 0;
};

}  // namespace mqb::aptq
