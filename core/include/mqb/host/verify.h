// `mqbench verify`: a deploy folder's QDQ ONNX model run in ONNX Runtime (through the
// test-time Node.js client scripts/ort/run_onnx.js) against its deployed TorchScript
// run by LibTorch here, on the same data: top-1 of each, top-1 agreement, and the
// largest output difference in quantization steps.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "mqb/host/datasets.h"

namespace mqb {

struct VerifyOptions {
  std::filesystem::path ort_script;  // empty: default_ort_script()
  int64_t batch_size = 500;
  // ONNX Runtime's graph optimization level: "all" (default, what a deployment runs:
  // Q/DQ pairs fused into integer kernels such as QLinearConv), "extended", "basic", or
  // "disabled" (Q/DQ ops run as written, in float).
  std::string ort_optimization = "all";
};

struct VerifyResult {
  std::filesystem::path dir;
  std::string backend;
  int64_t images = 0;
  double sim_top1 = 0, ort_top1 = 0;  // percent; NaN without labels
  double agreement = 0;               // percent of images where both pick the same class
  double max_abs_diff = 0;            // largest |ORT - TorchScript| over every output element
  double step = 0;                    // the last activation site's scale (see README.md "Deploy")
  double max_diff_steps = 0;          // max_abs_diff / step
};

// $MQB_ORT_SCRIPT, else scripts/ort/run_onnx.js in this build's source tree.
MQB_API std::filesystem::path default_ort_script();

// Runs one ONNX model in ONNX Runtime over `inputs` (batch dimension first) through the
// Node.js client; returns its first output.
MQB_API at::Tensor run_onnx_runtime(const std::filesystem::path& onnx, const at::Tensor& inputs,
                                    const VerifyOptions& options = {});

// `dir` itself when it holds deploy.json, else its sub-folders (sorted) that do.
// DataError when there is none.
MQB_API std::vector<std::filesystem::path> find_deploy_dirs(const std::filesystem::path& dir);

// Runs both models over `data` (labels optional). Errors: DataError for a missing or
// foreign deploy folder, Error when node or onnxruntime-node is missing (run
// scripts/setup.sh) or ONNX Runtime fails (its message included).
MQB_API VerifyResult verify_deployed(const std::filesystem::path& dir, const LabeledData& data,
                                     const VerifyOptions& options = {});

}  // namespace mqb
