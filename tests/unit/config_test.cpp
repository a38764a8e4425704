// Config: every key parsed, every resolution rule, every error with its location.
#include <gtest/gtest.h>

#include "mqb/host/config.h"

using namespace mqb;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

Registry& registry() {
  static Registry r(SearchPath::standard());
  return r;
}

ResolvedConfig resolve(const std::string& toml) { return resolve_config(parse_config(toml, "t.toml"), registry()); }

const char* kAcademic = R"(backend = "Academic"
[extra_qconfig]
w_observer = "MinMaxObserver"
a_observer = "MinMaxObserver"
w_fakequantize = "FixedFakeQuantize"
a_fakequantize = "FixedFakeQuantize"
w_qscheme = { bit = 4, symmetry = true, per_channel = true, pot_scale = false }
a_qscheme = { bit = 8, symmetry = false, per_channel = false }
)";

}  // namespace

TEST(ConfigParse, EveryKeyIsRead) {
  const Config c = parse_config(R"(backend = "Tensorrt"
plugin_dirs = ["my_plugins", "/opt/mqb"]
[extra_qconfig]
w_observer = "MSEObserver"
a_observer = "EMAMSEObserver"
w_fakequantize = "FixedFakeQuantize"
a_fakequantize = "PACTFakeQuantize"
w_fakeq_params = {}
a_fakeq_params = { alpha = 4.0 }
w_observer_extra_args = { p = 2.4 }
a_observer_extra_args = { ema_ratio = 0.8 }
[extra_qconfig.w_qscheme]
bit = 4
symmetry = false
per_channel = true
ch_axis = 1
pot_scale = true
[extra_qconfig.a_qscheme]
bit = 8
symmetry = true
symmetric_range = true
quant_min = -127
quant_max = 127
threshold = 0.999
[extra_quantizer]
additional_function_type = ["add"]
additional_module_type = ["Upsample"]
additional_node_name = ["layer1_0_conv1"]
exclude_module_name = ["layer4.1.conv2"]
exclude_function_type = ["cat"]
exclude_node_name = ["fc"]
academic_mode = true
)", "/cfg/t.toml");
  EXPECT_EQ(c.backend, "Tensorrt");
  ASSERT_EQ(c.plugin_dirs.size(), 2u);
  EXPECT_EQ(c.plugin_dirs[0], "/cfg/my_plugins");  // relative to the config file
  EXPECT_EQ(c.plugin_dirs[1], "/opt/mqb");
  EXPECT_EQ(*c.weight.observer, "MSEObserver");
  EXPECT_EQ(*c.activation.observer, "EMAMSEObserver");
  EXPECT_EQ(*c.weight.fake_quantize, "FixedFakeQuantize");
  EXPECT_EQ(*c.activation.fake_quantize, "PACTFakeQuantize");
  EXPECT_TRUE(c.weight.fakeq_params.empty());
  EXPECT_DOUBLE_EQ(c.activation.fakeq_params.real("alpha", 0), 4.0);
  EXPECT_DOUBLE_EQ(c.weight.observer_args.real("p", 0), 2.4);
  EXPECT_DOUBLE_EQ(c.activation.observer_args.real("ema_ratio", 0), 0.8);
  const QScheme& w = c.weight.qscheme->scheme;
  EXPECT_EQ(w.bit, 4);
  EXPECT_FALSE(w.symmetric);
  EXPECT_TRUE(w.per_channel);
  EXPECT_EQ(w.ch_axis, 1);
  EXPECT_TRUE(w.pot_scale);
  const QScheme& a = c.activation.qscheme->scheme;
  EXPECT_TRUE(a.symmetric_range);
  EXPECT_EQ(a.quant_min(), -127);
  // A non-scheme key inside a_qscheme is an observer argument, as in MQBench.
  EXPECT_DOUBLE_EQ(c.activation.qscheme->extra_observer_args.real("threshold", 0), 0.999);
  const ExtraQuantizer& eq = c.extra_quantizer;
  EXPECT_EQ(eq.additional_function_type, std::vector<std::string>{"add"});
  EXPECT_EQ(eq.additional_module_type, std::vector<std::string>{"Upsample"});
  EXPECT_EQ(eq.additional_node_name, std::vector<std::string>{"layer1_0_conv1"});
  EXPECT_EQ(eq.exclude_module_name, std::vector<std::string>{"layer4.1.conv2"});
  EXPECT_EQ(eq.exclude_function_type, std::vector<std::string>{"cat"});
  EXPECT_EQ(eq.exclude_node_name, std::vector<std::string>{"fc"});
  EXPECT_TRUE(eq.academic_mode);
}

TEST(ConfigParse, QSchemeFieldsDefaultLikeMQBenchQuantizeScheme) {
  const Config c = parse_config("backend = \"Academic\"\n[extra_qconfig]\nw_qscheme = {}\n", "t.toml");
  const QScheme& s = c.weight.qscheme->scheme;
  EXPECT_EQ(s.bit, 8);
  EXPECT_TRUE(s.symmetric);
  EXPECT_FALSE(s.per_channel);
  EXPECT_FALSE(s.pot_scale);
  EXPECT_FALSE(s.symmetric_range);
  EXPECT_EQ(s.ch_axis, -1);
}

TEST(ConfigErrors, EachNamesFileLineColumnKeyAndWhatIsAccepted) {
  auto err = [](const std::string& toml) { return error_of([&] { parse_config(toml, "c.toml"); }); };
  EXPECT_EQ(err("backend = \"Tensorrt\"\nbakend = 1\n"),
            "c.toml:2:1: unknown key 'bakend'; accepted here: backend, plugin_dirs, extra_qconfig, extra_quantizer, preserve_attr, concrete_args, leaf_module, advanced_ptq");
  EXPECT_TRUE(contains(err("backend = \"Tensorrt\"\n[extra_qconfig]\nw_obsrver = \"MinMaxObserver\"\n"),
                       "c.toml:3:1: unknown key 'extra_qconfig.w_obsrver'; accepted here: w_observer"));
  EXPECT_EQ(err("backend = \"Tensorrt\"\n[extra_qconfig.w_qscheme]\nbit = \"8\"\n"),
            "c.toml:3:7: extra_qconfig.w_qscheme.bit: expected an integer, found a string");
  EXPECT_TRUE(contains(err("backend = \"Tensorrt\"\n[extra_qconfig.w_qscheme]\nbit = 1\n"),
                       "c.toml:2:1: extra_qconfig.w_qscheme: invalid qscheme: bit = 1 is out of range; accepted: 2..16"));
  EXPECT_TRUE(contains(err("backend = \"Tensorrt\"\n[extra_qconfig.a_qscheme]\nsymmetry = false\nsymmetric_range = true\n"),
                       "symmetric_range = true needs symmetry = true"));
  EXPECT_EQ(err("backend = 3\n"), "c.toml:1:11: backend: expected a string, found an integer");
  EXPECT_TRUE(contains(err("backend = \"Tensorrt\"\n[extra_quantizer]\nexclude_node_name = \"fc\"\n"),
                       "c.toml:3:21: extra_quantizer.exclude_node_name: expected an array of strings, found a string"));
  EXPECT_TRUE(contains(err("backend = \"Tensorrt\"\n[extra_quantizer]\nexclude = []\n"),
                       "c.toml:3:1: unknown key 'extra_quantizer.exclude'; accepted here: additional_function_type"));
  EXPECT_TRUE(contains(err("backend = \"Tensorrt\"\n[extra_qconfig]\nw_fakeq_params = { alpha = [1] }\n"),
                       "extra_qconfig.w_fakeq_params.alpha: expected a boolean, integer, float or string"));
  EXPECT_TRUE(contains(err("backend = \"Tensorrt\"\n[extra_qconfig\n"), "c.toml:2:"));
  EXPECT_TRUE(contains(err("backend = \"Tensorrt\"\n[extra_qconfig\n"), "malformed TOML"));
  EXPECT_TRUE(contains(err("[extra_qconfig]\n"), "missing key 'backend'"));
  EXPECT_TRUE(contains(error_of([] { load_config("/nonexistent/dir/c.toml"); }), "cannot read the config file"));
}

TEST(ConfigParse, AdvancedPtqKeysAreReadWithMQBenchDefaults) {
  const Config none = parse_config("backend = \"Academic\"\n", "t.toml");
  EXPECT_FALSE(none.advanced_ptq.has_value());
  const Config d = parse_config("backend = \"Academic\"\n[advanced_ptq]\n", "t.toml");
  ASSERT_TRUE(d.advanced_ptq.has_value());
  EXPECT_TRUE(d.advanced_ptq->enabled);
  EXPECT_EQ(d.advanced_ptq->pattern, "block");
  EXPECT_DOUBLE_EQ(d.advanced_ptq->warm_up, 0.2);
  EXPECT_DOUBLE_EQ(d.advanced_ptq->weight, 0.01);
  EXPECT_DOUBLE_EQ(d.advanced_ptq->b_start, 20);
  EXPECT_DOUBLE_EQ(d.advanced_ptq->b_end, 2);
  EXPECT_DOUBLE_EQ(d.advanced_ptq->prob, 1.0);
  EXPECT_FALSE(d.advanced_ptq->scale_lr.has_value());
  const Config c = parse_config(
      "backend = \"Academic\"\n[advanced_ptq]\nenabled = false\npattern = \"layer\"\nmax_count = 77\nlr = 0.002\n"
      "scale_lr = 4e-5\nwarm_up = 0.1\nweight = 0.5\nb_range = [10, 3.5]\nprob = 0.5\nkeep_gpu = false\n"
      "round_mode = \"learned_hard_sigmoid\"\nseed = 9\n",
      "t.toml");
  const AdvancedPtqConfig& a = *c.advanced_ptq;
  EXPECT_FALSE(a.enabled);
  EXPECT_EQ(a.pattern, "layer");
  EXPECT_EQ(a.max_count, 77);
  EXPECT_DOUBLE_EQ(a.lr, 0.002);
  EXPECT_DOUBLE_EQ(*a.scale_lr, 4e-5);
  EXPECT_DOUBLE_EQ(a.warm_up, 0.1);
  EXPECT_DOUBLE_EQ(a.weight, 0.5);
  EXPECT_DOUBLE_EQ(a.b_start, 10);
  EXPECT_DOUBLE_EQ(a.b_end, 3.5);
  EXPECT_DOUBLE_EQ(a.prob, 0.5);
  EXPECT_FALSE(a.keep_gpu);
  EXPECT_EQ(a.seed, 9);
}

TEST(ConfigErrors, AdvancedPtqKeysNameFileLineColumnAndWhatIsAccepted) {
  auto err = [](const std::string& body) {
    return error_of([&] { parse_config("backend = \"Academic\"\n[advanced_ptq]\n" + body, "c.toml"); });
  };
  EXPECT_TRUE(contains(err("max_cnt = 10\n"), "c.toml:3:1: unknown key 'advanced_ptq.max_cnt'; accepted here: enabled, "
                                               "pattern, max_count"));
  EXPECT_EQ(err("pattern = \"net\"\n"),
            "c.toml:3:11: advanced_ptq.pattern: out of range; accepted: \"layer\" (AdaRound) or \"block\" (BRECQ, QDrop)");
  EXPECT_EQ(err("max_count = 0\n"), "c.toml:3:13: advanced_ptq.max_count: out of range; accepted: an integer >= 1");
  EXPECT_EQ(err("max_count = 1.5\n"), "c.toml:3:13: advanced_ptq.max_count: expected an integer, found a float");
  EXPECT_TRUE(contains(err("prob = 0\n"), "c.toml:3:8: advanced_ptq.prob: out of range; accepted: a number in (0, 1]"));
  EXPECT_TRUE(contains(err("b_range = [2, 20]\n"), "c.toml:3:11: advanced_ptq.b_range: out of range; accepted: start >= end > 0"));
  EXPECT_TRUE(contains(err("b_range = 20\n"), "advanced_ptq.b_range: expected two numbers [start, end]"));
  EXPECT_TRUE(contains(err("warm_up = 1.0\n"), "advanced_ptq.warm_up: out of range; accepted: a number in [0, 1)"));
  EXPECT_TRUE(contains(err("round_mode = \"nearest\"\n"), "advanced_ptq.round_mode: out of range"));
  EXPECT_TRUE(contains(err("lr = \"fast\"\n"), "c.toml:3:6: advanced_ptq.lr: expected a number, found a string"));
  EXPECT_TRUE(contains(error_of([] { parse_config("backend = \"Academic\"\nadvanced_ptq = 1\n", "c.toml"); }),
                       "c.toml:2:16: advanced_ptq: expected a table, found an integer"));
}

TEST(ConfigResolve, AcademicTakesEverythingFromTheUser) {
  const ResolvedConfig r = resolve(kAcademic);
  EXPECT_EQ(r.backend, "Academic");
  EXPECT_EQ(r.qconfig.weight.observer, "MinMaxObserver");
  EXPECT_EQ(r.qconfig.weight.qscheme.quant_min(), -8);
  EXPECT_EQ(r.qconfig.weight.qscheme.quant_max(), 7);
  EXPECT_TRUE(r.qconfig.weight.qscheme.per_channel);
  EXPECT_EQ(r.qconfig.activation.qscheme.quant_max(), 255);
  EXPECT_TRUE(r.site_rules.first_last_layer_8bit);
  EXPECT_NO_THROW(validate_plugin_params(r, registry()));
}

TEST(ConfigResolve, AcademicWithoutSchemesListsEveryMissingKey) {
  const std::string e = error_of([] { resolve("backend = \"Academic\"\n[extra_qconfig]\nw_observer = \"MinMaxObserver\"\n"); });
  EXPECT_TRUE(contains(e, "backend Academic has no defaults: [extra_qconfig] must set w_qscheme, a_qscheme, "
                          "a_observer, w_fakequantize, a_fakequantize"))
      << e;
}

TEST(ConfigResolve, UnknownBackendSuggestsTheClosestName) {
  const std::string e = error_of([] { resolve("backend = \"TensorRT8\"\n"); });
  EXPECT_TRUE(contains(e, "t.toml:1:11: backend: unknown backend 'TensorRT8'; did you mean 'Tensorrt'")) << e;
  EXPECT_TRUE(contains(e, "libmqb_backend_tensorrt8.so")) << e;
}

TEST(ConfigResolve, UnknownObserverIsLocatedAndSuggested) {
  std::string toml = kAcademic;
  const std::string good = "w_observer = \"MinMaxObserver\"";
  toml.replace(toml.find(good), good.size(), "w_observer = \"MinMaxObsrver\"");
  const std::string e = error_of([&] { resolve(toml); });
  EXPECT_TRUE(contains(e, "t.toml:3:14: w_observer: unknown observer 'MinMaxObsrver'; did you mean 'MinMaxObserver'"))
      << e;
}

TEST(ConfigResolve, PluginParametersAreValidatedByThePlugin) {
  std::string toml = std::string(kAcademic) + "w_observer_extra_args = { ema_ratio = 0.5 }\n";
  const ResolvedConfig r = resolve(toml);
  const std::string e = error_of([&] { validate_plugin_params(r, registry()); });
  EXPECT_EQ(e, "t.toml:9:39: extra_qconfig.w_observer_extra_args.ema_ratio: unknown parameter for MinMaxObserver; "
               "accepted: (none)");
}

TEST(ConfigResolve, BackendDefaultsThenUserOverrides) {
  // Tensorrt defaults (spec §1.4): LSQ + MinMax, 8-bit symmetric per-channel [-127, 127] weights.
  ResolvedConfig r = resolve("backend = \"Tensorrt\"\n");
  EXPECT_EQ(r.qconfig.weight.fake_quantize, "LearnableFakeQuantize");
  EXPECT_EQ(r.qconfig.weight.observer, "MinMaxObserver");
  EXPECT_EQ(r.qconfig.weight.qscheme.quant_min(), -127);
  EXPECT_TRUE(r.qconfig.weight.qscheme.per_channel);
  EXPECT_EQ(r.qconfig.activation.observer, "EMAMinMaxObserver");
  EXPECT_FALSE(r.qconfig.activation.qscheme.per_channel);
  // A user scheme replaces the default whole: missing fields take QuantizeScheme defaults
  // (so per_channel and symmetric_range fall back to false).
  r = resolve("backend = \"Tensorrt\"\n[extra_qconfig]\na_observer = \"MinMaxObserver\"\n"
              "w_qscheme = { bit = 4 }\n");
  EXPECT_EQ(r.qconfig.weight.observer, "MinMaxObserver");
  EXPECT_EQ(r.qconfig.weight.qscheme.quant_min(), -8);
  EXPECT_EQ(r.qconfig.weight.qscheme.quant_max(), 7);
  EXPECT_FALSE(r.qconfig.weight.qscheme.per_channel);
  EXPECT_EQ(r.qconfig.activation.observer, "MinMaxObserver");
  EXPECT_EQ(r.qconfig.activation.qscheme.quant_min(), -127);  // untouched default
  bool saw_w = false, saw_a = false;
  for (const auto& p : r.provenance) {
    saw_w = saw_w || p == "weight.qscheme = 4-bit symmetric per-tensor [-8, 7] (w_qscheme)";
    saw_a = saw_a || p == "activation.observer = MinMaxObserver (a_observer)";
  }
  EXPECT_TRUE(saw_w && saw_a);
}

TEST(ConfigResolve, NNIEHonoursOnlyObserverNames) {
  ResolvedConfig r = resolve("backend = \"NNIE\"\n[extra_qconfig]\na_observer = \"MinMaxObserver\"\n");
  EXPECT_EQ(r.backend_qtype, "nnie");
  EXPECT_EQ(r.qconfig.activation.observer, "MinMaxObserver");
  EXPECT_EQ(r.qconfig.activation.fake_quantize, "NNIEFakeQuantize");
  const std::string e = error_of([] {
    resolve("backend = \"NNIE\"\n[extra_qconfig]\nw_fakequantize = \"FixedFakeQuantize\"\n");
  });
  EXPECT_TRUE(contains(e, "extra_qconfig.w_fakequantize: backend NNIE fixes its quantizer and scheme")) << e;
}

TEST(ConfigResolve, EveryShippedExampleConfigResolves) {
  namespace fs = std::filesystem;
  int n = 0;
  for (const auto& f : fs::recursive_directory_iterator(fs::path(MQB_SOURCE_DIR) / "configs")) {
    if (f.path().extension() != ".toml") continue;
    if (f.path().parent_path().filename() == "bench") continue;  // `mqbench bench` matrices (tests/cli/bench_test.cpp)
    SCOPED_TRACE(f.path().string());
    const Config c = load_config(f.path());
    const ResolvedConfig r = resolve_config(c, registry());
    EXPECT_NO_THROW(validate_plugin_params(r, registry()));
    ++n;
  }
  EXPECT_GE(n, 24);  // one per backend, the seed example, and the comparison sets
}
