// `mqbench prepare`: prepares, calibrates, prints the sites and writes the prepared
// state and the deployed TorchScript; bad input gives exit codes 1 and 2.
#include <ATen/core/grad_mode.h>
#include <ATen/ops/equal.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_common.h"
#include "mqb/host/tensor_io.h"
#include "prepare_support.h"

namespace mqb::test {
namespace {

struct CliResult {
  int code;
  std::string out, err;
};

CliResult run(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  const int code = cli::run_main(args, out, err);
  return {code, out.str(), err.str()};
}

TEST(CliPrepare, CalibratesListsSitesAndWritesBothFiles) {
  const std::string dir = temp_dir("cli");
  const std::string cfg = dir + "/academic.toml";
  std::ofstream(cfg) << academic_fixed_toml();
  write_npy(dir + "/c0.npy", random_input({4, 3, 32, 32}, 1));
  write_npy(dir + "/c1.npy", random_input({4, 3, 32, 32}, 2));
  const std::string model = model_path("small_cnn_traced");
  CliResult r = run({"prepare", "--config", cfg, "--model", model, "--calib-npy", dir + "/c0.npy",
                     dir + "/c1.npy", "--out", dir + "/out"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("6 sites (3 weight, 3 activation)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("conv1.weight"), std::string::npos);
  EXPECT_NE(r.out.find("sqnr"), std::string::npos);
  // The deployed file and the saved prepared state agree with each other.
  PreparedModel back = PreparedModel::load(dir + "/out/prepared.mqb", test_registry());
  const at::Tensor x = random_input({2, 3, 32, 32}, 3);
  at::NoGradGuard no_grad;
  EXPECT_TRUE(at::equal(back.forward(x), run_torchscript(dir + "/out/deployed.pt", x)));
  EXPECT_TRUE(std::filesystem::exists(dir + "/out/sites.txt"));

  CliResult bad = run({"prepare", "--config", cfg, "--model", cfg, "--out", dir + "/bad"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("not a TorchScript model"), std::string::npos) << bad.err;
  CliResult usage = run({"prepare", "--config", cfg, "--out", dir + "/bad"});
  EXPECT_EQ(usage.code, 2) << usage.err;
  std::ofstream(dir + "/nobackend.toml") << "backend = \"Tensorrtt\"\n";
  CliResult plugin =
      run({"prepare", "--config", dir + "/nobackend.toml", "--model", model, "--out", dir + "/bad"});
  EXPECT_EQ(plugin.code, 1);
  EXPECT_NE(plugin.err.find("Tensorrt"), std::string::npos) << plugin.err;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mqb::test
