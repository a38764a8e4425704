// Deploy of a calibrated PreparedModel into one folder: the deployed TorchScript
// (aten fake-quant ops), the QDQ ONNX model, the backend plugin's own files
// (BackendPreset::deploy) and a manifest, deploy.json, that lists them with every
// site's qparams (what `mqbench verify` reads). See README.md "Deploy".
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mqb/backend_preset.h"
#include "mqb/deploy.h"
#include "mqb/host/prepared_model.h"

namespace mqb {

struct DeployOptions {
  std::string model_name = "model";  // stem of the ONNX files
  std::vector<int64_t> input_shape;  // shape of one input batch (dimension 0 becomes "N")
};

struct DeployResult {
  std::filesystem::path out_dir;
  std::filesystem::path torchscript;  // deployed.pt
  std::filesystem::path qdq_onnx;     // <model_name>_qdq.onnx
  std::filesystem::path manifest;     // deploy.json
  std::vector<std::filesystem::path> files;  // every file written, manifest last
  std::vector<DeploySite> sites;
};

inline constexpr const char* kDeployManifest = "deploy.json";
inline constexpr const char* kDeployManifestFormat = "mqbench-cpp deploy v1";

MQB_API DeployResult deploy_model(const PreparedModel& model, const BackendPreset& backend,
                                  const std::filesystem::path& out_dir, const DeployOptions& options);

}  // namespace mqb
