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

double scale_of(const PreparedModel& pm, const std::string& site, int64_t c) {
  return static_cast<double>(pm.qparams(site).scale.flatten().to(at::kFloat)[c].item<float>());
}

std::vector<ScaleLine> read_scale_lines(const std::filesystem::path& file) {
  std::istringstream in(read_text(file));
  std::vector<ScaleLine> lines;
  ScaleLine l;
  while (in >> l.name >> l.scale >> l.zero_point) lines.push_back(l);
  return lines;
}

}  // namespace mqb::test
