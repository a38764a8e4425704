// Top-1 accuracy of a prepared model over labelled data, in batches, with progress.
#pragma once
#include <functional>
#include <string>

#include "mqb/host/datasets.h"
#include "mqb/host/prepared_model.h"

namespace mqb {

// A model's forward on one batch of inputs, returning logits [batch, classes].
using BatchForward = std::function<at::Tensor(const at::Tensor&)>;

// Top-1 accuracy (percent) of `forward` over labelled data in batches, without autograd.
MQB_API double top1_accuracy(const LabeledData& data, int64_t batch_size, bool quiet, const std::string& label,
                             const BatchForward& forward);

// Runs in the model's current modes (set_mode / set_training are the caller's).
MQB_API double prepared_top1(PreparedModel& model, const LabeledData& data, int64_t batch_size, bool quiet,
                             const std::string& label = "evaluate");

}  // namespace mqb
