// Shared helpers of the prepare tests: the generated TorchScript models, configs
// written inline as TOML, deterministic inputs and error measures.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "mqb/host/config.h"
#include "mqb/host/prepare.h"
#include "mqb/host/registry.h"

namespace mqb::test {

// Path of a generated model ("resnet18_traced" -> .../models/resnet18_traced.pt);
// runs tests/prepare/make_models.py with /usr/bin/python3 the first time.
std::string model_path(const std::string& name);
Registry& test_registry();
ResolvedConfig resolve_toml(const std::string& toml);
// Academic with FixedFakeQuantize + MinMaxObserver, per-channel symmetric weights and
// asymmetric activations of the given bit widths.
std::string academic_fixed_toml(int wbit = 8, int abit = 8);
// `backend` with FixedFakeQuantize + MinMaxObserver on both sides (the backend's schemes).
std::string backend_fixed_toml(const std::string& backend);
at::Tensor random_input(std::vector<int64_t> shape, uint64_t seed);
// 10 log10(sum ref^2 / sum (test - ref)^2), in double.
double sqnr_db(const at::Tensor& ref, const at::Tensor& test);
// Runs the original TorchScript file (no preparation) on `x`.
at::Tensor run_torchscript(const std::string& file, const at::Tensor& x);
std::string temp_dir(const std::string& name);
// prepare() of a generated model under an inline TOML config, without the warning about
// ops left in float.
PreparedModel prepare_generated(const std::string& model, const std::string& toml, PrepareOptions opt = {});
// "name(reason) name(reason) ..." of every site, for failure messages.
std::string site_listing(const PreparedModel& pm);

}  // namespace mqb::test
