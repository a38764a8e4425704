// Deploy: every site becomes an aten fake-quant op; stock PyTorch (/usr/bin/python3
// with Debian's python3-torch) loads the file without this library and reproduces
// our simulation.
#include <ATen/core/grad_mode.h>
#include <ATen/ops/abs.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "mqb/host/tensor_io.h"
#include "prepare_support.h"

namespace mqb::test {
namespace {

// Runs the deployed file in stock PyTorch on x.npy, writes y.npy, and fails when the
// TorchScript code mentions our operator or lacks aten fake-quant ops.
void run_in_python(const std::string& dir) {
  const std::string script = dir + "/run.py";
  std::ofstream(script) << "import sys, numpy as np, torch\n"
                           "torch.set_num_threads(1)\n"
                           "m = torch.jit.load(sys.argv[1] + '/deployed.pt')\n"
                           "code = m.code\n"
                           "assert 'ops.mqb' not in code, 'our operator leaked into the deployed model'\n"
                           "assert 'fake_quantize_per' in code, 'no fake-quant op in the deployed model'\n"
                           "n = code.count('fake_quantize_per')\n"
                           "open(sys.argv[1] + '/count.txt', 'w').write(str(n))\n"
                           "with torch.no_grad():\n"
                           "    y = m(torch.from_numpy(np.load(sys.argv[1] + '/x.npy')))\n"
                           "np.save(sys.argv[1] + '/y.npy', y.numpy())\n";
  const std::string cmd = "OMP_NUM_THREADS=1 /usr/bin/python3 " + script + " " + dir;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

void check_deploy(const std::string& model, const std::string& toml, const std::vector<int64_t>& shape,
                  const std::string& disable_site = "") {
  PreparedModel pm = prepare_generated(model, toml);
  at::NoGradGuard no_grad;
  pm.set_mode(QuantMode::Calibrate);
  for (int i = 0; i < 2; ++i) pm.forward(random_input(shape, 600 + i));
  pm.set_mode(QuantMode::Quantize);
  size_t enabled = pm.sites().size();
  if (!disable_site.empty()) {
    pm.set_site_mode(disable_site, QuantMode::Disabled);
    --enabled;
  }
  const std::string dir = temp_dir("deploy_" + model);
  const at::Tensor x = random_input(shape, 700);
  const at::Tensor ours = pm.forward(x);
  write_npy(dir + "/x.npy", x);
  pm.deploy(dir + "/deployed.pt");
  run_in_python(dir);
  const at::Tensor theirs = read_tensor(dir + "/y.npy");
  ASSERT_EQ(theirs.sizes(), ours.sizes());
  const double diff = theirs.sub(ours).abs().max().item<double>();
  const double mag = ours.abs().max().item<double>();
  EXPECT_LE(diff, 1e-5 * mag) << model << ": stock PyTorch differs from the simulation by " << diff;
  // And the simulation is not the float model (the sites really quantize).
  EXPECT_GT(run_torchscript(model_path(model), x).sub(ours).abs().max().item<double>(), 1e-4 * mag);
  std::ifstream count(dir + "/count.txt");
  size_t n = 0;
  count >> n;
  EXPECT_EQ(n, enabled) << "one aten fake-quant op per enabled site";
  std::filesystem::remove_all(dir);
}

TEST(Deploy, ResNet18TracedTensorrtPerChannelWeightsInStockPyTorch) {
  check_deploy("resnet18_traced", backend_fixed_toml("Tensorrt"), {2, 3, 64, 64});
}

TEST(Deploy, ScriptedModelWithBranchesAndADisabledSite) {
  check_deploy("small_cnn_scripted", academic_fixed_toml(8, 8), {2, 3, 32, 32}, "conv2.input");
}

// Backend defaults: LearnableFakeQuantize (LSQ) keeps a float zero point that deploy
// rounds as torch's learnable op does; Tensorrt's is per-channel symmetric.
TEST(Deploy, LearnableQuantizersWithBackendDefaults) {
  check_deploy("small_cnn_traced", "backend = \"SNPE\"\n", {2, 3, 32, 32});
  check_deploy("small_cnn_scripted", "backend = \"Tensorrt\"\n", {2, 3, 32, 32});
}

TEST(Deploy, AsymmetricPerTensorSnpeOnMobileNetV2Scripted) {
  check_deploy("mobilenet_v2_scripted", backend_fixed_toml("SNPE"), {2, 3, 64, 64});
}

}  // namespace
}  // namespace mqb::test
