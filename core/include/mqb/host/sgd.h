// SGD with momentum and L2 weight decay (torch.optim.SGD's update rule), with state
// that can be saved and restored for exact resumption. Shared by `mqbench train`, QAT and
// the workflow benchmarks (float vs QAT steps on the same loop).
#pragma once
#include <ATen/core/Tensor.h>

#include <vector>

#include "mqb/host/evaluate.h"
#include "mqb/host/progress.h"

namespace mqb {

class MQB_API Sgd {
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

// One epoch of cross-entropy training: batches of `batch_size` indices taken from `order`
// (into `data`), each followed by an SGD step at the cosine rate for `step` (incremented)
// of `total_steps`. Reports the running loss on `progress`; returns the epoch's mean loss.
MQB_API double train_epoch(const LabeledData& data, const at::Tensor& order, int64_t batch_size, Sgd& sgd, double peak_lr,
                   int64_t& step, int64_t total_steps, Progress& progress, const BatchForward& forward);

}  // namespace mqb
