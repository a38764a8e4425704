// `mqbench fakequant` run in process (mqb::cli::run_main) on .npy files in a temporary
// directory; results checked against ATen's own fake-quantization kernels with qparams
// derived by hand from the calibration data.
#include <gtest/gtest.h>

#include <ATen/ops/_fake_quantize_learnable_per_tensor_affine.h>
#include <ATen/ops/fake_quantize_per_channel_affine.h>
#include <ATen/ops/fake_quantize_per_tensor_affine.h>
#include <ATen/ops/full.h>
#include <ATen/ops/randn.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

#include "cli_common.h"
#include "mqb/host/tensor_io.h"
#include "support/tensor_compare.h"

namespace mqb::test {
namespace {

namespace fs = std::filesystem;

class FakeQuantCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mqb_fakequant_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    at::manual_seed(21);
    calib_ = at::randn({4, 6}, at::kFloat);
    x_ = at::randn({4, 6}, at::kFloat).mul(1.3);
    g_ = at::randn({4, 6}, at::kFloat);
    write_npy(dir_ / "calib.npy", calib_);
    write_npy(dir_ / "x.npy", x_);
    write_npy(dir_ / "g.npy", g_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  int run(std::vector<std::string> args) {
    args.insert(args.begin(), "fakequant");
    std::ostringstream out, err;
    const int rc = cli::run_main(args, out, err);
    err_ = err.str();
    return rc;
  }
  std::vector<std::string> files_args(const fs::path& out) {
    return {"--calib", (dir_ / "calib.npy").string(), "--input", (dir_ / "x.npy").string(), "--grad",
            (dir_ / "g.npy").string(), "--out", out.string()};
  }
  nlohmann::json summary(const fs::path& out) {
    std::ifstream in(out / "summary.json");
    return nlohmann::json::parse(in);
  }

  fs::path dir_;
  at::Tensor calib_, x_, g_;
  std::string err_;
};

TEST_F(FakeQuantCli, FixedAsymmetricPerTensorMatchesATen) {
  const fs::path out = dir_ / "fixed";
  std::vector<std::string> args{"--quantizer", "FixedFakeQuantize", "--asymmetric"};
  for (auto& a : files_args(out)) args.push_back(a);
  ASSERT_EQ(run(args), 0) << err_;
  // qparams by hand: affine, [min(min,0), max(max,0)] over 255 levels.
  const float mn = std::min(calib_.min().item<float>(), 0.0f), mx = std::max(calib_.max().item<float>(), 0.0f);
  const float scale = (mx - mn) / 255.0f;
  const int64_t zp = std::min<int64_t>(255, std::max<int64_t>(0, -static_cast<int64_t>(std::nearbyint(mn / scale))));
  const nlohmann::json s = summary(out);
  EXPECT_FLOAT_EQ(s["qparams"]["scale"]["values"][0].get<double>(), scale);
  EXPECT_EQ(s["qparams"]["zero_point"]["values"][0].get<int64_t>(), zp);
  at::Tensor xa = x_.clone().set_requires_grad(true);
  at::Tensor ya = at::fake_quantize_per_tensor_affine(xa, scale, zp, 0, 255);
  ya.backward(g_);
  EXPECT_TRUE(tensors_bitwise_equal(read_npy(out / "output.npy"), ya.detach()));
  EXPECT_TRUE(tensors_bitwise_equal(read_npy(out / "grad_input.npy"), xa.grad()));
  EXPECT_EQ(s["output_shape"], nlohmann::json({4, 6}));
}

TEST_F(FakeQuantCli, LearnableWritesParameterGradients) {
  const fs::path out = dir_ / "lsq";
  std::vector<std::string> args{"--quantizer", "LearnableFakeQuantize", "--bit", "4", "--param",
                                "use_grad_scaling=false"};
  for (auto& a : files_args(out)) args.push_back(a);
  ASSERT_EQ(run(args), 0) << err_;
  const float amax = std::max(-calib_.min().item<float>(), calib_.max().item<float>());
  const float scale = amax / 7.5f;
  at::Tensor xa = x_.clone().set_requires_grad(true);
  at::Tensor sa = at::full({1}, scale, at::kFloat).set_requires_grad(true);
  at::Tensor za = at::full({1}, 0.0f, at::kFloat).set_requires_grad(true);
  at::Tensor ya = at::_fake_quantize_learnable_per_tensor_affine(xa, sa, za, -8, 7, 1.0);
  ya.backward(g_);
  EXPECT_TRUE(tensors_bitwise_equal(read_npy(out / "output.npy"), ya.detach()));
  EXPECT_TRUE(tensors_bitwise_equal(read_npy(out / "grad_input.npy"), xa.grad()));
  EXPECT_TRUE(tensors_close(read_npy(out / "grad_scale.npy"), sa.grad(), 1e-5, 1e-7));
  EXPECT_TRUE(fs::exists(out / "grad_zero_point.npy"));
}

TEST_F(FakeQuantCli, PerChannelOnAxisOne) {
  const fs::path out = dir_ / "pc";
  std::vector<std::string> args{"--quantizer", "FixedFakeQuantize", "--per-channel", "--ch-axis", "1"};
  for (auto& a : files_args(out)) args.push_back(a);
  ASSERT_EQ(run(args), 0) << err_;
  const at::Tensor amax = calib_.abs().amax(0);
  const at::Tensor scale = amax.div(127.5);
  const at::Tensor expected = at::fake_quantize_per_channel_affine(x_, scale, at::zeros({6}, at::kInt), 1, -128, 127);
  EXPECT_TRUE(tensors_bitwise_equal(read_npy(out / "output.npy"), expected));
}

TEST_F(FakeQuantCli, ConfigSideGivesQuantizerSchemeAndParameters) {
  const fs::path cfg = dir_ / "pact.toml";
  std::ofstream(cfg) << "backend = \"Academic\"\n[extra_qconfig]\n"
                        "w_observer = \"MinMaxObserver\"\na_observer = \"MinMaxObserver\"\n"
                        "w_fakequantize = \"PACTFakeQuantize\"\na_fakequantize = \"FixedFakeQuantize\"\n"
                        "w_qscheme = { bit = 4, symmetry = true, per_channel = false, pot_scale = false }\n"
                        "a_qscheme = { bit = 8, symmetry = false, per_channel = false, pot_scale = false }\n"
                        "w_fakeq_params = { alpha = 1.0 }\n";
  const fs::path out = dir_ / "cfg";
  std::vector<std::string> args{"--config", cfg.string(), "--side", "weight"};
  for (auto& a : files_args(out)) args.push_back(a);
  ASSERT_EQ(run(args), 0) << err_;
  const nlohmann::json s = summary(out);
  EXPECT_EQ(s["quantizer"], "PACTFakeQuantize");
  EXPECT_EQ(s["state"]["alpha"]["values"][0].get<double>(), 1.0);
  // Published PACT: the input is clipped to [-alpha, alpha] (the calibration data is
  // signed), 4-bit symmetric scale alpha / 7.5.
  const at::Tensor expected = at::fake_quantize_per_tensor_affine(x_.clamp(-1.0, 1.0), 1.0f / 7.5f, 0, -8, 7);
  EXPECT_TRUE(tensors_bitwise_equal(read_npy(out / "output.npy"), expected));
  EXPECT_TRUE(fs::exists(out / "grad_alpha.npy"));
  // The qscheme comes from the config: flags are refused.
  EXPECT_EQ(run({"--config", cfg.string(), "--side", "weight", "--bit", "8", "--input", (dir_ / "x.npy").string(),
                 "--out", out.string()}),
            2);
}

TEST_F(FakeQuantCli, ErrorsLeaveNoOutputBehind) {
  const fs::path out = dir_ / "bad";
  // Unknown quantizer: exit 1, nothing written.
  std::vector<std::string> args{"--quantizer", "NoSuchFakeQuantize"};
  for (auto& a : files_args(out)) args.push_back(a);
  EXPECT_EQ(run(args), 1);
  EXPECT_FALSE(fs::exists(out));
  // Gradient of the wrong shape: exit 1, nothing written.
  write_npy(dir_ / "g_bad.npy", at::randn({3}, at::kFloat));
  EXPECT_EQ(run({"--quantizer", "FixedFakeQuantize", "--input", (dir_ / "x.npy").string(), "--grad",
                 (dir_ / "g_bad.npy").string(), "--out", out.string()}),
            1);
  EXPECT_NE(err_.find("does not match"), std::string::npos) << err_;
  EXPECT_FALSE(fs::exists(out / "output.npy"));
  // Usage errors: exit 2.
  EXPECT_EQ(run({"--quantizer", "FixedFakeQuantize", "--out", out.string()}), 2);  // no --input
  EXPECT_EQ(run({"--quantizer", "FixedFakeQuantize", "--input", (dir_ / "x.npy").string(), "--out", out.string(),
                 "--param", "novalue"}),
            2);
  // A parameter the quantizer does not know: exit 1 with the accepted keys.
  EXPECT_EQ(run({"--quantizer", "FixedFakeQuantize", "--input", (dir_ / "x.npy").string(), "--out", out.string(),
                 "--param", "alpha=1"}),
            1);
  EXPECT_NE(err_.find("unknown parameter"), std::string::npos) << err_;
}

}  // namespace
}  // namespace mqb::test
