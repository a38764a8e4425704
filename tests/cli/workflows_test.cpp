// `mqbench train`, `ptq` and `eval` end to end on a small reference model: the report,
// the artefacts, and the deployed TorchScript scoring exactly what the simulation scored.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/cli_run.h"
#include "support/fashion_folder.h"

namespace fs = std::filesystem;

namespace {

fs::path work_dir() {
  static const fs::path d = mqb::test::process_work_dir("mqb_ptq_");
  return d;
}

using mqb::test::run_cli;

// A small labelled folder: the first 600 test images, normalised as the models expect.
fs::path data_folder() { return mqb::test::fashion_folder(work_dir() / "data", mqb::Split::Test, 600); }

}  // namespace

TEST(PtqCommand, ReportArtefactsAndDeployedModelAgreeWithTheSimulation) {
  const fs::path model = work_dir() / "cnn.pt";
  ASSERT_EQ(run_cli({"train", "--model", "small_cnn", "--limit", "4096", "--out", model.string(), "--quiet"}), 0);
  const fs::path out = work_dir() / "ptq";
  std::string table;
  ASSERT_EQ(run_cli({"ptq", "--config", std::string(MQB_SOURCE_DIR) + "/configs/tensorrt.toml", "--model", model.string(),
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
  ASSERT_EQ(run_cli({"eval", "--model", (out / "tensorrt" / "deployed.pt").string(), "--data", data_folder().string(),
                 "--json", "--quiet"},
                &eval_out),
            0);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(eval_out).at("top1").get<double>(), quant_top1);
  ASSERT_EQ(run_cli({"eval", "--prepared", (out / "tensorrt" / "prepared.mqb").string(), "--data",
                 data_folder().string(), "--json", "--quiet"},
                &eval_out),
            0);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(eval_out).at("top1").get<double>(), quant_top1);
}

// [advanced_ptq] in a config makes `mqbench ptq` reconstruct (BRECQ here, few iterations):
// the report lists every unit with its error, the table names the method, and the
// deployed TorchScript (hard-rounded weights) scores what the simulation scored.
TEST(PtqCommand, AdvancedPtqConfigRunsReconstructionAndDeploysItsWeights) {
  const fs::path model = work_dir() / "cnn_aptq.pt";
  ASSERT_EQ(run_cli({"train", "--model", "small_cnn", "--limit", "2048", "--out", model.string(), "--quiet"}), 0);
  std::ifstream src(std::string(MQB_SOURCE_DIR) + "/configs/advanced/w4a4_brecq.toml");
  std::stringstream text;
  text << src.rdbuf();
  std::string toml = text.str();
  const size_t at = toml.find("max_count = 2000");
  ASSERT_NE(at, std::string::npos);
  toml.replace(at, 16, "max_count = 20");
  const fs::path cfg = work_dir() / "brecq.toml";
  mqb::write_text_file(cfg, toml);
  const fs::path out = work_dir() / "aptq";
  std::string table;
  ASSERT_EQ(run_cli({"ptq", "--config", cfg.string(), "--model", model.string(), "--data", data_folder().string(),
                 "--calib-batches", "2", "--out", out.string(), "--quiet"},
                &table),
            0);
  EXPECT_NE(table.find("+ BRECQ"), std::string::npos) << table;
  std::ifstream in(out / "brecq" / "report.json");
  ASSERT_TRUE(in.good());
  const auto report = nlohmann::json::parse(in);
  const auto& rec = report.at("reconstruction");
  EXPECT_EQ(rec.at("method"), "BRECQ");
  EXPECT_EQ(rec.at("max_count"), 20);
  ASSERT_EQ(rec.at("units").size(), 2u);  // conv1+conv2+fc1 stacked, then fc2
  EXPECT_EQ(rec.at("units")[0].at("unit"), "conv1+conv2+fc1");
  EXPECT_EQ(rec.at("units")[1].at("unit"), "fc2");
  for (const auto& u : rec.at("units")) {
    EXPECT_GT(u.at("error_before").get<double>(), 0.0);
    EXPECT_EQ(u.at("iterations"), 20);
  }
  std::string eval_out;
  ASSERT_EQ(run_cli({"eval", "--model", (out / "brecq" / "deployed.pt").string(), "--data", data_folder().string(),
                 "--json", "--quiet"},
                &eval_out),
            0);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(eval_out).at("top1").get<double>(), report.at("quant_top1").get<double>());
}

TEST(PtqCommand, TrainReusesTheCachedModel) {
  const fs::path model = work_dir() / "reuse.pt";
  std::ofstream(model) << "placeholder";  // an existing file is reused, not retrained
  std::string text;
  ASSERT_EQ(run_cli({"train", "--out", model.string()}, &text), 0);
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

TEST(QatCommand, ResumingFromACheckpointReproducesTheUninterruptedRun) {
  const fs::path model = work_dir() / "qat_cnn.pt";
  ASSERT_EQ(run_cli({"train", "--limit", "2048", "--out", model.string(), "--quiet"}), 0);
  const std::string config = std::string(MQB_SOURCE_DIR) + "/configs/compare/w4a4_qat_lsq.toml";
  const std::vector<std::string> common = {"qat", "--config", config, "--model", model.string(), "--data",
                                           data_folder().string(), "--epochs", "2", "--batch-size", "100",
                                           "--calib-batches", "2", "--quiet", "--json"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> a = common;
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  std::string straight, first, resumed;
  ASSERT_EQ(run_cli(with({"--out", (work_dir() / "qat_a").string()}), &straight), 0);
  ASSERT_EQ(run_cli(with({"--out", (work_dir() / "qat_b").string(), "--stop-after", "1"}), &first), 0);
  ASSERT_EQ(run_cli(with({"--out", (work_dir() / "qat_b").string(), "--resume"}), &resumed), 0);
  const auto a = nlohmann::json::parse(straight), b = nlohmann::json::parse(resumed);
  EXPECT_EQ(a.at("final_top1").get<double>(), b.at("final_top1").get<double>());
  // The learned quantizer state is identical too.
  std::ifstream ra(work_dir() / "qat_a" / "report.json"), rb(work_dir() / "qat_b" / "report.json");
  const auto ja = nlohmann::json::parse(ra), jb = nlohmann::json::parse(rb);
  EXPECT_EQ(ja.at("epochs").back().at("train_loss"), jb.at("epochs").back().at("train_loss"));
  // QAT at W4A4 ends within reach of float on this small set.
  EXPECT_GT(a.at("final_top1").get<double>(), a.at("float_top1").get<double>() - 10.0);
}

TEST(QatCommand, ResumeWithoutACheckpointIsAClearError) {
  std::ostringstream out, err;
  EXPECT_EQ(mqb::cli::run_main({"qat", "--config", std::string(MQB_SOURCE_DIR) + "/configs/compare/w4a4_qat_lsq.toml",
                                "--model", (work_dir() / "qat_cnn.pt").string(), "--data", data_folder().string(),
                                "--resume", "--out", (work_dir() / "qat_none").string()},
                               out, err),
            1);
  EXPECT_NE(err.str().find("no checkpoint to resume from"), std::string::npos) << err.str();
}
