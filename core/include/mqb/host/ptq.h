// Post-training quantization of one model under one config, end to end: float
// accuracy, prepare, calibration, quantized accuracy, per-site SQNR, and the
// artefacts (prepared state, deployed TorchScript, report.json).
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "mqb/host/advanced_ptq.h"
#include "mqb/host/datasets.h"
#include "mqb/host/prepared_model.h"

namespace mqb {

class Registry;

struct PtqOptions {
  int64_t calib_batches = 8;
  int64_t batch_size = 64;
  int64_t eval_batch_size = 1000;
  bool quiet = false;
  // Also write the deploy folder <out_dir>/deploy/ (mqb/host/deploy.h): QDQ ONNX,
  // the backend's own files, deploy.json.
  bool deploy = false;
};

struct PtqResult {
  std::string config_file;
  std::string backend;
  std::string weight_desc, activation_desc;  // "MinMaxObserver/FixedFakeQuantize 8-bit ..."
  double float_top1 = 0;
  double quant_top1 = 0;
  double calibration_seconds = 0;
  int64_t sites = 0;
  std::vector<SiteError> site_errors;  // on the first calibration batch
  // Set when the config has an enabled [advanced_ptq] table: AdaRound / BRECQ / QDrop
  // ran on the calibration batches after calibration.
  std::optional<ReconstructionReport> reconstruction;
  std::filesystem::path out_dir;
};

// `calib` supplies calibration batches (its first calib_batches * batch_size inputs; the
// same batches feed reconstruction when the config has [advanced_ptq]);
// `eval` must carry labels. Writes prepared.mqb, deployed.pt and report.json into
// `out_dir` (created). `float_top1` < 0 means: evaluate the float model here.
MQB_API PtqResult run_ptq(const std::filesystem::path& model, const std::filesystem::path& config,
                          const LabeledData& calib, const LabeledData& eval, const std::filesystem::path& out_dir,
                          Registry& registry, const PtqOptions& options, double float_top1 = -1);

}  // namespace mqb
