// `mqbench train`, `ptq` and `eval` end to end on a small reference model: the report,
// the artefacts, and the deployed TorchScript scoring exactly what the simulation scored.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_common.h"
#include "mqb/host/datasets.h"
#include "mqb/host/reference_models.h"
#include "mqb/host/tensor_io.h"

namespace fs = std::filesystem;

namespace {

fs::path work_dir() {
  static fs::path d = [] {
    fs::path p = fs::temp_directory_path() / ("mqb_ptq_" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p;
  }();
  return d;
}

int run(std::vector<std::string> args, std::string* out_text = nullptr) {
  std::ostringstream out, err;
  const int code = mqb::cli::run_main(args, out, err);
  if (out_text) *out_text = out.str();
  if (code != 0) ADD_FAILURE() << "mqbench exited " << code << ": " << err.str();
  return code;
}

// A small labelled folder: the first 600 test images, normalised as the models expect.
fs::path data_folder() {
  const fs::path d = work_dir() / "data";
  if (fs::exists(d / "labels.npy")) return d;
  fs::create_directories(d);
  mqb::LabeledData test = mqb::load_fashion_mnist(mqb::Split::Test);
  mqb::write_npy(d / "inputs.npy", mqb::normalize_fashion_mnist(test.inputs.narrow(0, 0, 600)));
  mqb::write_npy(d / "labels.npy", test.labels.narrow(0, 0, 600));
  return d;
}

}  // namespace

TEST(PtqCommand, ReportArtefactsAndDeployedModelAgreeWithTheSimulation) {
  const fs::path model = work_dir() / "cnn.pt";
  ASSERT_EQ(run({"train", "--model", "small_cnn", "--limit", "4096", "--out", model.string(), "--quiet"}), 0);
  const fs::path out = work_dir() / "ptq";
  std::string table;
  ASSERT_EQ(run({"ptq", "--config", std::string(MQB_SOURCE_DIR) + "/configs/tensorrt.toml", "--model", model.string(),
                 "--data", data_folder().string(), "--calib-batches", "4", "--out", out.string(), "--quiet"},
                &table),
            0);
  EXPECT_NE(table.find("Tensorrt"), std::string::npos) << table;

  std::ifstream in(out / "tensorrt" / "report.json");
  ASSERT_TRUE(in.good());
  const auto report = nlohmann::json::parse(in);
  const double float_top1 = report.at("float_top1"), quant_top1 = report.at("quant_top1");
  EXPECT_GT(float_top1, 50.0);
  EXPECT_NEAR(quant_top1, float_top1, 2.0);  // 8-bit PTQ stays close to float
  EXPECT_EQ(report.at("backend"), "Tensorrt");
  EXPECT_EQ(report.at("site_sqnr").size(), report.at("sites").get<size_t>());
  EXPECT_TRUE(fs::exists(out / "tensorrt" / "prepared.mqb"));

  // The deployed TorchScript (aten fake-quant ops only) scores what the simulation scored,
  // and so does the saved prepared state.
  std::string eval_out;
  ASSERT_EQ(run({"eval", "--model", (out / "tensorrt" / "deployed.pt").string(), "--data", data_folder().string(),
                 "--json", "--quiet"},
                &eval_out),
            0);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(eval_out).at("top1").get<double>(), quant_top1);
  ASSERT_EQ(run({"eval", "--prepared", (out / "tensorrt" / "prepared.mqb").string(), "--data",
                 data_folder().string(), "--json", "--quiet"},
                &eval_out),
            0);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(eval_out).at("top1").get<double>(), quant_top1);
}

TEST(PtqCommand, TrainReusesTheCachedModel) {
  const fs::path model = work_dir() / "reuse.pt";
  std::ofstream(model) << "placeholder";  // an existing file is reused, not retrained
  std::string text;
  ASSERT_EQ(run({"train", "--out", model.string()}, &text), 0);
  EXPECT_NE(text.find("reusing " + model.string()), std::string::npos) << text;
}

TEST(PtqCommand, MissingInputsAreClearErrors) {
  std::ostringstream out, err;
  EXPECT_EQ(mqb::cli::run_main({"ptq", "--config", "x.toml", "--model", "/nonexistent.pt", "--data",
                                data_folder().string(), "--out", (work_dir() / "bad").string()},
                               out, err),
            1);
  EXPECT_NE(err.str().find("/nonexistent.pt: not a TorchScript model"), std::string::npos) << err.str();
  std::ostringstream out2, err2;
  EXPECT_EQ(mqb::cli::run_main({"ptq", "--out", "x"}, out2, err2), 2);
  EXPECT_NE(err2.str().find("at least one --config"), std::string::npos) << err2.str();
}
