// Helpers of the deploy tests (see deploy_support.h).
#include "deploy_support.h"

#include <ATen/core/grad_mode.h>

#include <fstream>
#include <sstream>

namespace mqb::test {

PreparedModel calibrated(const std::string& model, const std::string& toml, const std::vector<int64_t>& shape) {
  PreparedModel pm = prepare_generated(model, toml);
  at::NoGradGuard no_grad;
  pm.set_training(false);
  pm.set_mode(QuantMode::Calibrate);
  for (int i = 0; i < 2; ++i) pm.forward(random_input(shape, 900 + i));
  pm.set_mode(QuantMode::Quantize);
  return pm;
}

DeployResult deploy_to(const PreparedModel& pm, const std::filesystem::path& dir, const std::vector<int64_t>& shape,
                       const std::string& model_name) {
  DeployOptions o;
  o.model_name = model_name;
  o.input_shape = shape;
  o.input_shape[0] = 1;
  return deploy_model(pm, *test_registry().create_backend(pm.backend()), dir, o);
}

nlohmann::json read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file.string() + ": missing");
  return nlohmann::json::parse(in);
}

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace mqb::test
