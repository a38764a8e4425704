// Helpers of the prepare tests (see prepare_support.h). Kept apart from the test
// files so only this file pays for <torch/script.h>.
#include "prepare_support.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/ops/randn.h>
#include <c10/core/GradMode.h>
#include <torch/csrc/jit/serialization/import.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace mqb::test {

std::string model_path(const std::string& name) {
  const std::string dir = MQB_PREPARE_MODELS_DIR;
  const std::string path = dir + "/" + name + ".pt";
  if (!std::filesystem::exists(path)) {
    const std::string cmd = "/usr/bin/python3 " + std::string(MQB_MAKE_MODELS) + " " + dir + " " + name;
    if (std::system(cmd.c_str()) != 0 || !std::filesystem::exists(path))
      throw std::runtime_error("could not generate " + path + " with: " + cmd);
  }
  return path;
}

Registry& test_registry() {
  static Registry r(SearchPath::standard());
  return r;
}

ResolvedConfig resolve_toml(const std::string& toml) {
  return resolve_config(parse_config(toml, "test.toml"), test_registry());
}

std::string academic_fixed_toml(int wbit, int abit) {
  return "backend = \"Academic\"\n[extra_qconfig]\nw_observer = \"MinMaxObserver\"\na_observer = "
         "\"MinMaxObserver\"\n"
         "w_fakequantize = \"FixedFakeQuantize\"\na_fakequantize = \"FixedFakeQuantize\"\n"
         "w_qscheme = { bit = " +
         std::to_string(wbit) +
         ", symmetry = true, per_channel = true }\n"
         "a_qscheme = { bit = " +
         std::to_string(abit) + ", symmetry = false, per_channel = false }\n";
}

std::string backend_fixed_toml(const std::string& backend) {
  if (backend == "Academic") return academic_fixed_toml();
  if (backend == "Academic_NLP")
    return "backend = \"Academic_NLP\"\n[extra_qconfig]\nw_observer = \"MinMaxObserver\"\na_observer = "
           "\"MinMaxObserver\"\n"
           "w_fakequantize = \"FixedFakeQuantize\"\na_fakequantize = \"FixedFakeQuantize\"\n"
           "w_qscheme = { bit = 8, symmetry = true, per_channel = true }\n"
           "a_qscheme = { bit = 8, symmetry = false, per_channel = false }\n";
  if (backend == "NNIE")  // NNIE's quantizer cannot be overridden (spec §1.5)
    return "backend = \"NNIE\"\n[extra_qconfig]\nw_observer = \"MinMaxObserver\"\na_observer = "
           "\"MinMaxObserver\"\n";
  return "backend = \"" + backend +
         "\"\n[extra_qconfig]\nw_observer = \"MinMaxObserver\"\na_observer = \"MinMaxObserver\"\n"
         "w_fakequantize = \"FixedFakeQuantize\"\na_fakequantize = \"FixedFakeQuantize\"\n";
}

at::Tensor random_input(std::vector<int64_t> shape, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return at::randn(shape, gen, at::TensorOptions().dtype(at::kFloat));
}

double sqnr_db(const at::Tensor& ref, const at::Tensor& test) {
  const at::Tensor r = ref.detach().to(at::kDouble), d = test.detach().to(at::kDouble).sub(r);
  return 10.0 * std::log10(r.pow(2).sum().item<double>() / d.pow(2).sum().item<double>());
}

at::Tensor run_torchscript(const std::string& file, const at::Tensor& x) {
  torch::jit::Module m = torch::jit::load(file);
  m.eval();
  at::NoGradGuard no_grad;
  return m.forward({x}).toTensor();
}

std::string temp_dir(const std::string& name) {
  auto dir =
      std::filesystem::temp_directory_path() / ("mqb_prepare_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

PreparedModel prepare_generated(const std::string& model, const std::string& toml, PrepareOptions opt) {
  opt.warn_unsupported = false;
  return prepare(model_path(model), resolve_toml(toml), test_registry(), opt);
}

std::string site_listing(const PreparedModel& pm) {
  std::string out;
  for (const auto& s : pm.sites()) out += s.name + "(" + s.reason + ") ";
  return out;
}

}  // namespace mqb::test
