// `mqbench observe` in process (mqb::cli::run_main) on .npy files written to a temp
// folder; the JSON is checked against values computed independently with ATen.
#include <gtest/gtest.h>

#include <ATen/ops/amax.h>
#include <ATen/ops/amin.h>
#include <ATen/ops/randn.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_common.h"
#include "mqb/host/tensor_io.h"

namespace mqb::test {
namespace {

namespace fs = std::filesystem;

class ObserveCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("mqb_observe_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    at::manual_seed(7);
    a_ = at::randn({4, 3, 5}).mul(2.0).add(0.5);
    b_ = at::randn({4, 3, 5}).mul(3.0).sub(0.25);
    write_npy(dir_ / "a.npy", a_);
    write_npy(dir_ / "b.npy", b_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  int run(std::vector<std::string> args, nlohmann::json* j = nullptr) {
    std::ostringstream out, err;
    args.insert(args.begin(), "observe");
    const int rc = cli::run_main(args, out, err);
    err_ = err.str();
    if (rc == 0 && j) *j = nlohmann::json::parse(out.str());
    return rc;
  }
  std::string path(const char* f) const { return (dir_ / f).string(); }

  fs::path dir_;
  at::Tensor a_, b_;
  std::string err_;
};

TEST_F(ObserveCli, MinMaxAsymmetricMatchesIndependentFormula) {
  nlohmann::json j;
  ASSERT_EQ(run({"--observer", "MinMaxObserver", "--asymmetric", "--bit", "8", "--input", path("a.npy"), path("b.npy")},
                &j),
            0)
      << err_;
  const float mn = std::min(a_.min().item<float>(), b_.min().item<float>());
  const float mx = std::max(a_.max().item<float>(), b_.max().item<float>());
  // torch's affine formula, written out: s = (max(mx,0) - min(mn,0)) / 255, z = -round(min/s).
  const float s = (std::max(mx, 0.0f) - std::min(mn, 0.0f)) / 255.0f;
  const int z = static_cast<int>(-std::nearbyint(std::min(mn, 0.0f) / s));
  EXPECT_EQ(j["state"]["min_val"]["values"][0].get<float>(), mn);
  EXPECT_EQ(j["state"]["max_val"]["values"][0].get<float>(), mx);
  EXPECT_EQ(j["scale"]["values"][0].get<float>(), s);
  EXPECT_EQ(j["zero_point"]["values"][0].get<int>(), z);
  EXPECT_EQ(j["batches"].size(), 2u);
  EXPECT_EQ(j["scale"]["dtype"], "float32");
  EXPECT_EQ(j["zero_point"]["dtype"], "int32");
  EXPECT_EQ(j["qscheme"]["quant_max"].get<int>(), 255);
}

TEST_F(ObserveCli, PerChannelOnAnyAxisAndOutFile) {
  nlohmann::json j;
  const std::string out = path("r.json");
  ASSERT_EQ(run({"--observer", "MinMaxObserver", "--per-channel", "--ch-axis", "2", "--input", path("a.npy"), "--out",
                 out},
                &j),
            0)
      << err_;
  const at::Tensor amax = at::amax(a_, {0, 1}), amin = at::amin(a_, {0, 1});
  ASSERT_EQ(j["scale"]["values"].size(), 5u);
  for (int c = 0; c < 5; ++c) {
    const float m = std::max(-std::min(amin[c].item<float>(), 0.0f), std::max(amax[c].item<float>(), 0.0f));
    EXPECT_EQ(j["scale"]["values"][c].get<float>(), std::max(m / 127.5f, 1.1920928955078125e-07f)) << c;
  }
  std::ifstream f(out);
  ASSERT_TRUE(f.good());
  EXPECT_EQ(nlohmann::json::parse(f), j);
}

TEST_F(ObserveCli, HyperParametersAndQuantType) {
  nlohmann::json j;
  ASSERT_EQ(run({"--observer", "EMAMinMaxObserver", "--param", "ema_ratio=0.5", "--input", path("a.npy"), path("b.npy")},
                &j),
            0)
      << err_;
  const float expected = a_.max().item<float>() * 0.5f + b_.max().item<float>() * 0.5f;
  EXPECT_EQ(j["state"]["max_val"]["values"][0].get<float>(), expected);

  ASSERT_EQ(run({"--observer", "MinMaxFloorObserver", "--quant-type", "input", "--input", path("a.npy")}, &j), 0) << err_;
  const float b = std::max(a_.min().item<float>() / -128.0f, a_.max().item<float>() / 127.0f);
  const float expect_scale = std::ldexp(1.0f, -static_cast<int>(std::floor(std::log2(1.0f / b))));
  EXPECT_EQ(j["scale"]["values"][0].get<float>(), expect_scale);
  EXPECT_EQ(j["quant_type"], "input");
}

TEST_F(ObserveCli, ErrorsAreClear) {
  EXPECT_EQ(run({"--observer", "MinMaxObserver"}), 2);
  EXPECT_NE(err_.find("--input"), std::string::npos) << err_;
  EXPECT_EQ(run({"--observer", "MSEObserver", "--param", "q=3", "--input", path("a.npy")}), 1);
  EXPECT_NE(err_.find("unknown parameter"), std::string::npos) << err_;
  EXPECT_NE(err_.find("--param"), std::string::npos) << err_;
  EXPECT_EQ(run({"--observer", "MinMaxObserver", "--symmetric", "--asymmetric", "--input", path("a.npy")}), 2);
  EXPECT_EQ(run({"--observer", "MinMaxObserver", "--input", path("missing.npy")}), 1);
  EXPECT_EQ(run({"--observer", "NoSuchObserver", "--input", path("a.npy")}), 1);
  EXPECT_EQ(run({"--observer", "MinMaxFloorObserver", "--input", path("a.npy")}), 1);
  EXPECT_NE(err_.find("quant_type"), std::string::npos) << err_;
  EXPECT_EQ(run({"--observer", "MinMaxObserver", "--quant-type", "weights", "--input", path("a.npy")}), 2);
}

TEST_F(ObserveCli, ConfigSide) {
  const std::string cfg = path("c.toml");
  std::ofstream(cfg) << "backend = \"Academic\"\n[extra_qconfig]\nw_observer = \"MSEObserver\"\n"
                        "a_observer = \"EMAMinMaxObserver\"\nw_fakequantize = \"FixedFakeQuantize\"\n"
                        "a_fakequantize = \"FixedFakeQuantize\"\nw_observer_extra_args = { p = 2.0 }\n"
                        "w_qscheme = { bit = 4, symmetry = true, per_channel = false, pot_scale = false }\n"
                        "a_qscheme = { bit = 8, symmetry = false, per_channel = false, pot_scale = false }\n";
  nlohmann::json j;
  ASSERT_EQ(run({"--config", cfg, "--side", "weight", "--input", path("a.npy")}, &j), 0) << err_;
  EXPECT_EQ(j["observer"], "MSEObserver");
  EXPECT_EQ(j["qscheme"]["bit"], 4);
  EXPECT_EQ(run({"--config", cfg, "--side", "weight", "--bit", "8", "--input", path("a.npy")}), 2);
}

}  // namespace
}  // namespace mqb::test
