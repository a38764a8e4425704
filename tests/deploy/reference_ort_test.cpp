// The real-engine check on the Fashion-MNIST reference models: `mqbench ptq --deploy`,
// then `mqbench verify` runs the QDQ (and ONNX_QNN's QLinear) ONNX in ONNX Runtime against the deployed
// TorchScript on the 10000 test images. W8A8 and W4A8: ONNX Runtime's top-1 within
// 0.1 % of the simulation's and top-1 agreement >= 99.5 %. Stock PyTorch loads the
// deployed TorchScript and gives LibTorch's outputs exactly.
#include <ATen/ops/equal.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/cli_run.h"
#include "support/fashion_folder.h"
#include "mqb/host/datasets.h"
#include "mqb/host/reference_models.h"
#include "mqb/host/tensor_io.h"
#include "prepare_support.h"

namespace fs = std::filesystem;

namespace {

fs::path work_dir() {
  static const fs::path d = mqb::test::process_work_dir("mqb_deploy_ref_");
  return d;
}

using mqb::test::run_cli;

// verify's data: the whole test split; ptq's calibration (and quick evaluation) data.
fs::path test_folder() { return mqb::test::fashion_folder(work_dir() / "test_data", mqb::Split::Test, 10000); }
fs::path calib_folder() { return mqb::test::fashion_folder(work_dir() / "calib_data", mqb::Split::Train, 512); }

// A quick training run: `limit` images in batches of 32 (small_cnn reaches about 80 %,
// resnet_mini about 72 % on 8192 images; an undertrained net has near-ties everywhere
// and any two engines disagree on them). Trained once into the build tree and shared by
// the tests of this suite (each runs in its own process; the file is written atomically).
fs::path trained(const std::string& name, int64_t limit) {
  const fs::path model = fs::path(MQB_PREPARE_MODELS_DIR) / (name + "_trained_" + std::to_string(limit) + ".pt");
  if (!fs::exists(model)) {
    fs::create_directories(model.parent_path());
    EXPECT_EQ(run_cli({"train", "--model", name, "--limit", std::to_string(limit), "--batch-size", "32", "--out",
                       model.string(), "--quiet"}),
              0);
  }
  return model;
}

// ptq --deploy under each config, then verify over the whole test split.
nlohmann::json ptq_and_verify(const fs::path& model, const std::vector<std::string>& configs, const std::string& tag) {
  const fs::path out = work_dir() / ("ptq_" + tag);
  std::vector<std::string> args = {"ptq", "--model", model.string(), "--data", calib_folder().string(),
                                   "--calib-batches", "4", "--deploy", "--out", out.string(), "--quiet"};
  for (const auto& c : configs) {
    args.push_back("--config");
    args.push_back(std::string(MQB_SOURCE_DIR) + "/configs/" + c);
  }
  if (run_cli(args) != 0) return nlohmann::json::array();
  std::string text;
  if (run_cli({"verify", "--deployed", out.string(), "--data", test_folder().string(), "--json"}, &text) != 0)
    return nlohmann::json::array();
  return nlohmann::json::parse(text);
}

void expect_engine_agrees(const nlohmann::json& rows, size_t expected_rows) {
  ASSERT_EQ(rows.size(), expected_rows) << rows.dump(2);
  for (const auto& r : rows) {
    std::printf("[ verify ] %-40s %-7s TorchScript %.2f %%  ORT %.2f %%  agreement %.2f %%  max diff %.3g steps\n",
                r.at("dir").get<std::string>().c_str(), r.at("form").get<std::string>().c_str(), r.at("torchscript_top1").get<double>(),
                r.at("ort_top1").get<double>(), r.at("agreement").get<double>(), r.at("max_diff_steps").get<double>());
    EXPECT_EQ(r.at("images"), 10000);
    EXPECT_GT(r.at("torchscript_top1").get<double>(), 60.0) << r.dump();
    EXPECT_LE(std::abs(r.at("ort_top1").get<double>() - r.at("torchscript_top1").get<double>()), 0.1) << r.dump();
    EXPECT_GE(r.at("agreement").get<double>(), 99.5) << r.dump();
  }
}

// ONNX_QNN's folder has two ONNX models to run: the QDQ model and the QLinear one.
TEST(ReferenceModelsInOnnxRuntime, SmallCnnW8A8AndW4A8) {
  const auto rows = ptq_and_verify(trained("small_cnn", 4096),
                                   {"tensorrt.toml", "compare/w4a8_minmax.toml", "onnx_qnn.toml"}, "cnn");
  expect_engine_agrees(rows, 4);
  size_t qlinear = 0;
  for (const auto& r : rows) qlinear += r.at("form") == "qlinear" && r.at("backend") == "ONNX_QNN";
  EXPECT_EQ(qlinear, 1u);
}

TEST(ReferenceModelsInOnnxRuntime, ResnetMiniW8A8) {
  const auto rows = ptq_and_verify(trained("resnet_mini", 8192), {"qdq.toml"}, "resnet");
  expect_engine_agrees(rows, 1);
}

// The deploy folder's TorchScript in stock PyTorch (/usr/bin/python3): LibTorch's outputs,
// bit for bit.
TEST(ReferenceModelsInOnnxRuntime, DeployedTorchScriptLoadsInStockPytorch) {
  const fs::path model = trained("small_cnn", 4096);
  const fs::path out = work_dir() / "ptq_torchscript";
  ASSERT_EQ(run_cli({"ptq", "--model", model.string(), "--data", calib_folder().string(), "--calib-batches", "2",
                 "--deploy", "--config", std::string(MQB_SOURCE_DIR) + "/configs/snpe.toml", "--out", out.string(),
                 "--quiet"}),
            0);
  const fs::path deployed = out / "snpe" / "deploy" / "deployed.pt";
  const fs::path x = work_dir() / "x.npy", y = work_dir() / "y.npy", script = work_dir() / "run.py";
  const at::Tensor input = mqb::read_npy(calib_folder() / "inputs.npy").narrow(0, 0, 64).contiguous();
  mqb::write_npy(x, input);
  std::ofstream(script) << "import sys, numpy as np, torch\n"
                           "torch.set_num_threads(1)\n"
                           "m = torch.jit.load(sys.argv[1])\n"
                           "with torch.no_grad():\n"
                           "    np.save(sys.argv[3], m(torch.from_numpy(np.load(sys.argv[2]))).numpy())\n";
  const std::string cmd = "OMP_NUM_THREADS=1 /usr/bin/python3 " + script.string() + " " + deployed.string() + " " +
                          x.string() + " " + y.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const at::Tensor ours = mqb::test::run_torchscript(deployed.string(), input);
  EXPECT_TRUE(at::equal(mqb::read_npy(y), ours));
}

}  // namespace
