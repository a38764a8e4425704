// Top-1 accuracy of a prepared model over labelled data, in batches, with progress.
#pragma once
#include <string>

#include "mqb/host/datasets.h"
#include "mqb/host/prepared_model.h"

namespace mqb {

// Runs in the model's current modes (set_mode / set_training are the caller's).
MQB_API double prepared_top1(PreparedModel& model, const LabeledData& data, int64_t batch_size, bool quiet,
                             const std::string& label = "evaluate");

}  // namespace mqb
