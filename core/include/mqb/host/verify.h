// `mqbench verify`: a deploy folder's quantized ONNX models (the QDQ model, and the
// QLinear model where the backend writes one) run in ONNX Runtime (through the
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
  std::string onnx;  // the ONNX file run (a name in dir)
  std::string form;  // its form: "qdq" or "qlinear"
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

// Runs the TorchScript and each quantized ONNX model over `data` (labels optional): one
// result per ONNX model, the QDQ model first. Errors: DataError for a missing or foreign
// deploy folder, Error when node or onnxruntime-node is missing (run scripts/setup.sh)
// or ONNX Runtime fails (its message included).
MQB_API std::vector<VerifyResult> verify_deployed(const std::filesystem::path& dir, const LabeledData& data,
                                     const VerifyOptions& options = {});

}  // namespace mqb
