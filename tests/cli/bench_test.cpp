// `mqbench bench`: the matrix schema and its errors, axes expanding to configs equal to
// the hand-written ones, a tiny matrix end to end (rows agree with `mqbench ptq`, every
// report written), and the HTML report opened in headless Chromium.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "bench_matrix.h"
#include "cli_common.h"
#include "mqb/host/config.h"
#include "support/fashion_folder.h"

namespace fs = std::filesystem;

namespace {

const std::string kConfigs = std::string(MQB_SOURCE_DIR) + "/configs";

fs::path work_dir() {
  static fs::path d = [] {
    fs::path p = fs::temp_directory_path() / ("mqb_bench_" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p;
  }();
  return d;
}

mqb::Registry& registry() {
  static mqb::Registry r(mqb::SearchPath::standard());
  return r;
}

std::string read(const fs::path& f) {
  std::ifstream in(f, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string config_error(const std::string& text) {
  try {
    mqb::cli::parse_bench_matrix(text, "m.toml", registry());
  } catch (const mqb::ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

mqb::ResolvedConfig resolve_text(const std::string& toml) {
  return mqb::resolve_config(mqb::parse_config(toml, "row.toml"), registry());
}
mqb::ResolvedConfig resolve_file(const std::string& file) {
  return mqb::resolve_config(mqb::load_config(file), registry());
}

void expect_same_qconfig(const mqb::ResolvedConfig& a, const mqb::ResolvedConfig& b, const std::string& what) {
  EXPECT_EQ(a.backend, b.backend) << what;
  for (auto [x, y] : {std::pair{&a.qconfig.weight, &b.qconfig.weight}, {&a.qconfig.activation, &b.qconfig.activation}}) {
    EXPECT_EQ(x->observer, y->observer) << what;
    EXPECT_EQ(x->fake_quantize, y->fake_quantize) << what;
    EXPECT_TRUE(x->qscheme == y->qscheme) << what << ": " << x->qscheme.describe() << " vs " << y->qscheme.describe();
  }
}

const mqb::cli::BenchRowSpec& row_labelled(const mqb::cli::BenchMatrix& m, const std::string& label) {
  for (const auto& r : m.rows)
    if (r.label == label) return r;
  throw std::runtime_error("no row labelled " + label);
}

int count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + needle.size())) ++n;
  return n;
}

}  // namespace

TEST(BenchMatrix, SchemaErrorsNameFileLineAndColumn) {
  EXPECT_NE(config_error("model = \"x.pt\"\n[[group]]\nname = \"a\"\nobserver = [\"MinMaxObserver\"]\n")
                .find("m.toml:4:1: unknown key 'group[0].observer'; accepted here: name, configs, backends"),
            std::string::npos);
  EXPECT_NE(config_error("[[group]]\nbackends = [\"Tensorrt\"]\nbits = [4, 40]\n")
                .find("m.toml:3:12: group[0].bits: bit = 40 is out of range; accepted: 2..16"),
            std::string::npos)
      << config_error("[[group]]\nbackends = [\"Tensorrt\"]\nbits = [4, 40]\n");
  EXPECT_NE(config_error("[[group]]\nbackends = [\"Tensorrt\"]\nmodes = [\"ptq\", \"qta\"]\n")
                .find("m.toml:3:17: group[0].modes: expected \"ptq\" or \"qat\", found \"qta\""),
            std::string::npos);
  EXPECT_NE(config_error("calib_batches = 0\n[[group]]\nbackends = \"SNPE\"\n").find("m.toml:1:17: calib_batches: must be at least 1"),
            std::string::npos);
  EXPECT_NE(config_error("[[group]]\nname = \"empty\"\n").find("m.toml:1:1: group[0]: a group needs base `configs` or a `backends` axis"),
            std::string::npos);
  EXPECT_NE(config_error("seeds = [0]\n").find("no [[group]]"), std::string::npos);
  EXPECT_NE(config_error("[[group]]\nconfigs = [\"/nonexistent/*.toml\"]\n").find("m.toml:2:12: group[0].configs: /nonexistent/*.toml: no config file matches"),
            std::string::npos);
  EXPECT_NE(config_error("[[group]\n").find("m.toml:1:"), std::string::npos);
}

// The default matrix rebuilds the main job's hand-written configs from a base config and axes.
TEST(BenchMatrix, DefaultMatrixExpandsToTheMainJobsConfigs) {
  const auto m = mqb::cli::load_bench_matrix(kConfigs + "/bench/default.toml", registry());
  int backends = 0;
  for (const auto& e : fs::directory_iterator(kConfigs)) backends += e.path().extension() == ".toml";
  ASSERT_EQ(m.rows.size(), static_cast<size_t>(backends + 5 + 4));
  for (const auto& r : m.rows) EXPECT_EQ(r.invalid, "") << r.label;
  // Group 1: the backend configs as they are.
  expect_same_qconfig(resolve_text(row_labelled(m, "tensorrt PTQ").config_toml), resolve_file(kConfigs + "/tensorrt.toml"),
                      "tensorrt");
  for (const auto& [obs, file] : std::vector<std::pair<std::string, std::string>>{
           {"MinMaxObserver", "minmax"}, {"PercentileObserver", "percentile"}, {"MSEObserver", "mse"},
           {"HistogramMSEObserver", "histogrammse"}, {"EntropyObserver", "entropy"}}) {
    const auto& row = row_labelled(m, "academic " + obs + " FixedFakeQuantize w4a8 PTQ");
    EXPECT_EQ(row.mode, "ptq");
    expect_same_qconfig(resolve_text(row.config_toml), resolve_file(kConfigs + "/compare/w4a8_" + file + ".toml"), obs);
  }
  const std::vector<std::pair<std::string, std::string>> qat = {
      {"academic LearnableFakeQuantize w4a4 QAT", "lsq"},
      {"academic w:DoReFaFakeQuantize a:PACTFakeQuantize w4a4 QAT", "pact"},
      {"academic w:DoReFaFakeQuantize a:FixedFakeQuantize w4a4 QAT", "dorefa"},
      {"academic DSQFakeQuantize w4a4 QAT", "dsq"}};
  for (const auto& [label, file] : qat) {
    const auto& row = row_labelled(m, label);
    EXPECT_EQ(row.mode, "qat");
    expect_same_qconfig(resolve_text(row.config_toml), resolve_file(kConfigs + "/compare/w4a4_qat_" + file + ".toml"), file);
  }
}

// A bit width on a backend's default scheme keeps the rest of that scheme; a scheme with an
// explicit integer range cannot take a bit width, and its row is kept as invalid.
TEST(BenchMatrix, BitsOverrideTheBackendDefaultSchemeOrMarkTheRowInvalid) {
  const fs::path ranged = work_dir() / "ranged.toml";
  std::ofstream(ranged) << "backend = \"Tensorrt\"\n[extra_qconfig]\n"
                        << "a_qscheme = { bit = 8, symmetry = true, quant_min = 0, quant_max = 255 }\n";
  const auto m = mqb::cli::parse_bench_matrix(
      "[[group]]\nbackends = [\"Tensorrt\", \"OPENVINO\"]\nbits = [{ w = 4, a = 8 }, 6]\n"
      "[[group]]\nconfigs = [\"ranged.toml\"]\nbits = [{ w = 4, a = 8 }, 4]\n",
      (work_dir() / "m.toml").string(), registry());
  ASSERT_EQ(m.rows.size(), 6u);
  const mqb::ResolvedConfig trt = resolve_text("backend = \"Tensorrt\"\n");
  const mqb::ResolvedConfig w4 = resolve_text(row_labelled(m, "Tensorrt w4a8 PTQ").config_toml);
  mqb::QScheme expected = trt.qconfig.weight.qscheme;
  expected.bit = 4;
  EXPECT_TRUE(w4.qconfig.weight.qscheme == expected) << w4.qconfig.weight.qscheme.describe();
  EXPECT_TRUE(w4.qconfig.activation.qscheme == trt.qconfig.activation.qscheme);  // 8 bit: untouched
  const mqb::ResolvedConfig w6 = resolve_text(row_labelled(m, "Tensorrt w6a6 PTQ").config_toml);
  EXPECT_EQ(w6.qconfig.activation.qscheme.bit, 6);
  EXPECT_EQ(w6.qconfig.activation.qscheme.symmetric, trt.qconfig.activation.qscheme.symmetric);
  // OPENVINO's 7-bit symmetric per-channel weights become 6-bit symmetric per-channel: [-32, 31].
  const mqb::ResolvedConfig ov = resolve_text(row_labelled(m, "OPENVINO w6a6 PTQ").config_toml);
  EXPECT_EQ(ov.qconfig.weight.qscheme.quant_min(), -32);
  EXPECT_EQ(ov.qconfig.weight.qscheme.quant_max(), 31);
  EXPECT_TRUE(ov.qconfig.weight.qscheme.per_channel);
  // The explicit activation range stays valid while activations stay at 8 bit, not at 4.
  EXPECT_EQ(row_labelled(m, "ranged w4a8 PTQ").invalid, "");
  EXPECT_EQ(resolve_text(row_labelled(m, "ranged w4a8 PTQ").config_toml).qconfig.weight.qscheme.bit, 4);
  EXPECT_NE(row_labelled(m, "ranged w4a4 PTQ").invalid.find("a_qscheme sets an explicit quant_min/quant_max"),
            std::string::npos)
      << row_labelled(m, "ranged w4a4 PTQ").invalid;
}

TEST(BenchCommand, TinyMatrixEndToEndWithTheHtmlReportRenderedInChromium) {
  // A small model and data folder: a few seconds in all.
  const fs::path dir = work_dir();
  const fs::path model = dir / "cnn.pt", data = dir / "data";
  std::ostringstream o, e;
  ASSERT_EQ(mqb::cli::run_main({"train", "--limit", "1024", "--out", model.string(), "--quiet"}, o, e), 0) << e.str();
  mqb::test::fashion_folder(data, mqb::Split::Test, 400);
  const fs::path matrix = dir / "m.toml";
  std::ofstream(matrix) << "model = \"cnn.pt\"\ndata = \"data\"\ncalib_batches = 2\nbatch_size = 32\n"
                        << "[qat]\nepochs = 1\nbatch_size = 64\ntrain_images = 256\n"
                        << "[[group]]\nname = \"W8A8\"\nconfigs = [\"" << kConfigs << "/tensorrt.toml\", \"" << kConfigs
                        << "/snpe.toml\"]\n"
                        << "[[group]]\nname = \"W4A8 <observers>\"\nconfigs = [\"" << kConfigs
                        << "/academic.toml\"]\nquantizers = [\"FixedFakeQuantize\"]\n"
                        << "observers = [\"MinMaxObserver\", \"MSEObserver\"]\nbits = [{ w = 4, a = 8 }]\n"
                        << "[[group]]\nname = \"NNIE refuses quantizers\"\nbackends = [\"NNIE\"]\n"
                        << "quantizers = [\"FixedFakeQuantize\"]\n"
                        << "[[group]]\nname = \"QAT\"\nconfigs = [\"" << kConfigs
                        << "/academic.toml\"]\nbits = [4]\nmodes = [\"qat\"]\n";
  // --list shows the rows and which cannot run, without running anything.
  std::ostringstream listing, list_err;
  ASSERT_EQ(mqb::cli::run_main({"bench", "--matrix", matrix.string(), "--list"}, listing, list_err), 0) << list_err.str();
  EXPECT_EQ(count(listing.str(), "\n"), 6) << listing.str();
  EXPECT_EQ(count(listing.str(), "\tskipped: "), 1) << listing.str();
  EXPECT_NE(listing.str().find("5\tptq\tNNIE refuses quantizers\tNNIE FixedFakeQuantize PTQ\tskipped: "), std::string::npos)
      << listing.str();
  const fs::path out = dir / "bench";
  EXPECT_FALSE(fs::exists(out));
  std::ostringstream table, err;
  ASSERT_EQ(mqb::cli::run_main({"bench", "--matrix", matrix.string(), "--out", out.string(), "--quiet"}, table, err), 0)
      << err.str() << table.str();
  EXPECT_NE(table.str().find("5 run, 1 skipped, 0 failed"), std::string::npos) << table.str();

  const auto j = nlohmann::json::parse(read(out / "bench.json"));
  const auto& rows = j.at("rows");
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[4].at("status"), "skipped");
  EXPECT_NE(rows[4].at("reason").get<std::string>().find("NNIE"), std::string::npos) << rows[4];
  EXPECT_EQ(rows[5].at("mode"), "qat");
  for (size_t i : {0u, 1u, 2u, 3u, 5u}) {
    ASSERT_EQ(rows[i].at("status"), "ok") << rows[i];
    EXPECT_EQ(rows[i].at("site_sqnr").size(), rows[i].at("sites").get<size_t>());
    EXPECT_GT(rows[i].at("sites").get<int>(), 0);
    EXPECT_EQ(rows[i].at("versions").at("libtorch").get<std::string>().rfind("1.13.", 0), 0u);
    EXPECT_TRUE(rows[i].at("versions").at("plugins").contains(rows[i].at("backend").get<std::string>()));
    EXPECT_TRUE(fs::exists(fs::path(rows[i].at("out_dir").get<std::string>()) / "config.toml"));
    EXPECT_EQ(rows[i].at("seed"), 0);
  }
  // Each row's report.json (written by run_ptq / run_qat) holds the SQNR the bench reports.
  for (size_t i : {0u, 5u}) {
    const auto report = nlohmann::json::parse(read(fs::path(rows[i].at("out_dir").get<std::string>()) / "report.json"));
    EXPECT_EQ(report.at("site_sqnr"), rows[i].at("site_sqnr")) << i;
  }
  EXPECT_EQ(rows[0].at("backend"), "Tensorrt");
  EXPECT_EQ(rows[0].at("resolved").at("weight").at("fake_quantize"), "LearnableFakeQuantize");

  // A bench row is exactly `mqbench ptq` on its config: same data, same calibration, same top-1.
  std::string ptq;
  {
    std::ostringstream po, pe;
    ASSERT_EQ(mqb::cli::run_main({"ptq", "--config", kConfigs + "/tensorrt.toml", "--model", model.string(), "--data",
                                  data.string(), "--calib-batches", "2", "--batch-size", "32", "--out",
                                  (dir / "ptq").string(), "--quiet", "--json"},
                                 po, pe),
              0)
        << pe.str();
    ptq = po.str();
  }
  const auto p = nlohmann::json::parse(ptq).at(0);
  EXPECT_DOUBLE_EQ(rows[0].at("top1").get<double>(), p.at("quant_top1").get<double>());
  EXPECT_DOUBLE_EQ(rows[0].at("float_top1").get<double>(), p.at("float_top1").get<double>());

  // CSV: a header and one line per row; Markdown: one table line per row.
  const std::string csv = read(out / "bench.csv");
  EXPECT_EQ(count(csv, "\n"), 7);
  EXPECT_EQ(csv.rfind("index,id,group,label,mode,seed,status,", 0), 0u);
  const std::string md = read(out / "bench.md");
  EXPECT_EQ(count(md, " | ptq | "), 5) << md;  // 4 run, 1 skipped
  EXPECT_EQ(count(md, " | qat | "), 1) << md;

  // The HTML report, drawn by its own script in a real browser.
  if (!fs::exists("/usr/bin/chromium")) GTEST_SKIP() << "chromium is not installed (scripts/setup.sh installs it)";
  const fs::path profile = dir / "chromium-profile", dom = dir / "dom.html";
  const std::string cmd = "timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic "
                          "--no-first-run --disable-background-networking --disable-component-update --disable-sync "
                          "--user-data-dir=" + profile.string() + " --dump-dom file://" + (out / "bench.html").string() +
                          " > " + dom.string() + " 2> " + (dir / "chromium.log").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read(dir / "chromium.log");
  const std::string html = read(dom);
  ASSERT_NE(html.find("data-charts=\"ok\""), std::string::npos) << html.substr(0, 2000);
  EXPECT_NE(html.find("data-rows=\"5\""), std::string::npos);
  EXPECT_EQ(count(html, "class=\"acc-bar\""), 5);
  EXPECT_EQ(count(html, "class=\"calib-bar\""), 5);
  int sites = 0;
  for (size_t i : {0u, 1u, 2u, 3u, 5u}) sites += rows[i].at("sites").get<int>();
  EXPECT_EQ(count(html, "class=\"sqnr-cell\"") + count(html, "class=\"sqnr-missing\""),
            5 * count(html, "class=\"site-label\""));
  EXPECT_EQ(count(html, "class=\"sqnr-cell\""), sites);
  EXPECT_EQ(count(html, "class=\"fp32-line\""), 1);
  for (size_t i : {0u, 1u, 2u, 3u, 5u}) {
    // Each bar's label is the row's label (the group name with '<' stays text, escaped).
    const std::string label = rows[i].at("label").get<std::string>();
    EXPECT_NE(html.find(">" + label + "</text>"), std::string::npos) << label;
  }
  EXPECT_NE(html.find("W4A8 &lt;observers&gt;"), std::string::npos);
  EXPECT_NE(html.find("id=\"render-error\" hidden=\"\""), std::string::npos);
}
