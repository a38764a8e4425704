// Helpers of the deploy tests: calibrated prepared models of the generated TorchScript
// models (tests/prepare/make_models.py) and their deploy folders.
#pragma once
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mqb/host/deploy.h"
#include "prepare_support.h"

namespace mqb::test {

// Prepared under `toml`, calibrated on two random batches of `shape`, in Quantize mode.
PreparedModel calibrated(const std::string& model, const std::string& toml, const std::vector<int64_t>& shape);
// deploy_model with the backend the model was prepared for; input shape = shape with batch 1.
DeployResult deploy_to(const PreparedModel& pm, const std::filesystem::path& dir, const std::vector<int64_t>& shape,
                       const std::string& model_name = "model");
nlohmann::json read_json(const std::filesystem::path& file);
std::string read_text(const std::filesystem::path& file);
// The site's scale (channel c) as the deployed model holds it: float32, read as double.
double scale_of(const PreparedModel& pm, const std::string& site, int64_t c = 0);

// One `name scale zero_point` line of a Tengine .scale file.
struct ScaleLine {
  std::string name;
  double scale = 0;
  int64_t zero_point = 0;
};
std::vector<ScaleLine> read_scale_lines(const std::filesystem::path& file);

}  // namespace mqb::test
