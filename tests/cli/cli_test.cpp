// mqbench's commands: output, JSON, usage errors and exit codes.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_common.h"
#include "mqb/plugin.h"

namespace {

struct CliRun {
  int code;
  std::string out, err;
};

CliRun run(std::vector<std::string> args) {
  std::ostringstream out, err;
  int code = mqb::cli::run_main(args, out, err);
  return {code, out.str(), err.str()};
}

// The real binary, for what only a process shows (exit status, stdout/stderr split).
CliRun run_binary(const std::string& args) {
  const std::string cmd = std::string(MQBENCH_BINARY) + " " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out, ""};
}

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

std::string config(const std::string& name) { return std::string(MQB_SOURCE_DIR) + "/configs/" + name; }

}  // namespace

TEST(Cli, HelpListsCommandsAndExitCodes) {
  CliRun r = run({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* c : {"plugins", "config", "observe", "fakequant", "exit codes"}) EXPECT_TRUE(contains(r.out, c)) << c;
  EXPECT_EQ(run({}).code, 2);  // no command is a usage error
}

TEST(Cli, VersionNamesSdkAbiAndLibTorch) {
  CliRun r = run({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_TRUE(contains(r.out, "plugin ABI " + std::to_string(MQB_PLUGIN_ABI_VERSION) + ", LibTorch 1.13.0")) << r.out;
}

TEST(Cli, UnknownCommandAndBadOptionsAreUsageErrors) {
  CliRun r = run({"plugin"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "unknown command 'plugin'")) << r.err;
  r = run({"plugins", "--kinds", "observer"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "usage: mqbench plugins")) << r.err;
  r = run({"plugins", "--kind", "gadget"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(contains(r.err, "accepted: observer, quantizer, backend")) << r.err;
}

TEST(Cli, PluginsTableShowsNameKindVersionFileAndDescription) {
  CliRun r = run({"plugins", "--kind", "backend"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "NAME")) << r.out;
  EXPECT_TRUE(contains(r.out, "Tensorrt")) << r.out;
  EXPECT_TRUE(contains(r.out, "libmqb_backend_tensorrt.so")) << r.out;
  EXPECT_TRUE(contains(r.out, "NVIDIA TensorRT")) << r.out;
  EXPECT_TRUE(contains(r.out, "14 plugin(s)")) << r.out;
  EXPECT_FALSE(contains(r.out, "MinMaxObserver"));  // filtered by kind
}

TEST(Cli, PluginsJsonIsMachineReadable) {
  CliRun r = run({"plugins", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  std::set<std::string> kinds;
  bool minmax = false;
  for (const auto& p : j.at("plugins")) {
    kinds.insert(p.at("kind").get<std::string>());
    if (p.at("name") == "MinMaxObserver") {
      minmax = true;
      EXPECT_EQ(p.at("torch_version"), "1.13.0");
      EXPECT_TRUE(contains(p.at("file").get<std::string>(), "libmqb_observer_minmaxobserver.so"));
    }
  }
  EXPECT_TRUE(minmax);
  EXPECT_EQ(kinds, (std::set<std::string>{"backend", "observer", "quantizer"}));
  EXPECT_TRUE(j.at("refused").empty());
  EXPECT_FALSE(j.at("search_path").empty());
}

TEST(Cli, ConfigShowResolvesTheSeedExample) {
  CliRun r = run({"config", "show", config("seed_mse_fixed.toml")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "backend: Academic")) << r.out;
  EXPECT_TRUE(contains(r.out, "observer:      MSEObserver")) << r.out;
  EXPECT_TRUE(contains(r.out, "qscheme:       8-bit asymmetric per-channel(axis 0) [0, 255] (b8_asym_pc)")) << r.out;
  EXPECT_TRUE(contains(r.out, "activation.observer = EMAMSEObserver (a_observer)")) << r.out;
}

TEST(Cli, ConfigShowListsTheReconstructionSettings) {
  const CliRun r = run({"config", "show", config("advanced/w2a4_qdrop.toml")});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* expected : {"fake_quantize: AdaRoundFakeQuantize",
                               "advanced_ptq: QDrop, pattern block, max_count 2000, lr 0.01, scale_lr 0.000040",
                               "b_range [20, 2], prob 0.5, seed 0"})
    EXPECT_TRUE(contains(r.out, expected)) << expected << "\n" << r.out;
}

TEST(Cli, ConfigShowJsonCarriesTheFullQConfig) {
  CliRun r = run({"config", "show", config("seed_mse_fixed.toml"), "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("backend"), "Academic");
  EXPECT_EQ(j.at("weight").at("fake_quantize"), "FixedFakeQuantize");
  EXPECT_EQ(j.at("weight").at("qscheme").at("quant_max"), 255);
  EXPECT_EQ(j.at("weight").at("qscheme").at("per_channel"), true);
  EXPECT_EQ(j.at("activation").at("observer"), "EMAMSEObserver");
  EXPECT_EQ(j.at("site_rules").at("first_last_layer_8bit"), true);
  // Every site rule the prepare pass applies is shown (here: Academic's).
  EXPECT_EQ(j.at("site_rules").at("skip_consumers_with_scalar_inputs"), true);
  EXPECT_TRUE(j.at("site_rules").at("act_output_ops").is_array());
}

TEST(Cli, ConfigErrorsExitOneWithTheLocation) {
  const std::string bad = (std::filesystem::temp_directory_path() / "mqb_cli_bad.toml").string();
  std::ofstream(bad) << "backend = \"Tensorrt\"\n[extra_qconfig]\nw_qscheme = { bit = 40 }\n";
  CliRun r = run({"config", "show", bad});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(contains(r.err, bad + ":3:13: extra_qconfig.w_qscheme: invalid qscheme: bit = 40 is out of range")) << r.err;
  r = run({"config", "show"});
  EXPECT_EQ(r.code, 2);
  r = run({"config", "list", bad});
  EXPECT_EQ(r.code, 2);
}

TEST(CliProcess, ExitCodesOfTheRealBinary) {
  EXPECT_EQ(run_binary("--version").code, 0);
  EXPECT_EQ(run_binary("plugins --kind nope").code, 2);
  EXPECT_EQ(run_binary("config show /nonexistent.toml").code, 1);
  CliRun r = run_binary("plugins --kind observer --json");
  EXPECT_EQ(r.code, 0);
  EXPECT_NO_THROW(nlohmann::json::parse(r.out));
}
