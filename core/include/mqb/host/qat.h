// Quantization-aware training of a prepared model: calibrate, then train model
// weights and the quantizers' learnable tensors together (LSQ scales, PACT alphas,
// ...) with SGD, a cosine learning rate, a freeze-BN epoch, a checkpoint every epoch
// and exact resumption.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "mqb/host/datasets.h"
#include "mqb/host/prepared_model.h"

namespace mqb {

class Registry;

struct QatOptions {
  int epochs = 1;
  int64_t batch_size = 128;
  double lr = 0.01;             // peak; cosine decay to 0 over all steps
  double weight_decay = 5e-4;   // on model weights only, not on quantizer tensors
  int64_t calib_batches = 8;
  int freeze_bn_epoch = -1;     // BN statistics frozen from this epoch on (0-based; -1 never)
  int64_t train_limit = 0;      // first N training samples only (0: all)
  uint64_t seed = 0;            // shuffling
  bool resume = false;          // continue from <out>/checkpoint.mqb
  int stop_after_epoch = 0;     // stop once this many epochs of the schedule are done (0: run all)
  bool quiet = false;
};

struct QatEpoch {
  int epoch = 0;
  double train_loss = 0;
  double top1 = 0;
  double seconds = 0;
};

struct QatResult {
  std::string backend;
  std::string weight_desc, activation_desc;  // as in PtqResult
  double float_top1 = 0;
  double calibrated_top1 = 0;  // before any training (PTQ with the QAT scheme)
  double calibration_seconds = 0;  // 0 when resumed (calibrated by the first run)
  std::vector<QatEpoch> epochs;
  std::vector<SiteError> site_errors;  // after training, on the first calibration batch
  double final_top1() const { return epochs.empty() ? calibrated_top1 : epochs.back().top1; }
};

// Writes <out>/checkpoint.mqb + optimizer.pt after every epoch, and prepared.mqb,
// deployed.pt (where the quantizers have an aten form) and report.json at the end.
MQB_API QatResult run_qat(const std::filesystem::path& model, const std::filesystem::path& config,
                          const LabeledData& train, const LabeledData& eval, const std::filesystem::path& out,
                          Registry& registry, const QatOptions& options);

}  // namespace mqb
