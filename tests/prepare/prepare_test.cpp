// prepare() on small models: site placement and names, modes, autograd, weight
// caching, save/load, exclusions, error reports and bad input.
#include "mqb/host/prepare.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/abs.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/isfinite.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "prepare_support.h"

namespace mqb::test {
namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + " ";
  return out;
}

void calibrate(PreparedModel& pm, const std::vector<int64_t>& shape, int batches = 2) {
  at::NoGradGuard no_grad;
  pm.set_mode(QuantMode::Calibrate);
  for (int i = 0; i < batches; ++i) pm.forward(random_input(shape, 100 + i));
  pm.set_mode(QuantMode::Quantize);
}

class SmallCnn : public ::testing::TestWithParam<std::string> {};

// SmallCNN (make_models.py): conv1-bn1-relu, maxpool, conv2-bn2, if/relu, maxpool,
// flatten, fc. Academic: weights of conv1, conv2, fc (3); inputs of conv1 (the network
// input), conv2 (pool output) and fc (flatten output): 3.
TEST_P(SmallCnn, AcademicSitesNamesAndEightBitFirstLast) {
  PreparedModel pm = prepare_generated(GetParam(), academic_fixed_toml(4, 4));
  const auto names = pm.site_names();
  EXPECT_EQ(names.size(), 6u) << join(names);
  for (const char* n :
       {"conv1.weight", "conv2.weight", "fc.weight", "conv1.input", "conv2.input", "fc.input"})
    EXPECT_TRUE(has(names, n)) << n << " missing in " << join(names);
  for (const auto& s : pm.sites()) {
    const bool io = s.name.rfind("conv1.", 0) == 0 || s.name.rfind("fc.", 0) == 0;
    EXPECT_EQ(s.config.qscheme.bit, io ? 8 : 4) << s.name;
    EXPECT_EQ(s.kind == SiteKind::Weight, s.name.find(".weight") != std::string::npos) << s.name;
  }
}

TEST_P(SmallCnn, CalibrateThenQuantizeStaysCloseToFloat) {
  PreparedModel pm = prepare_generated(GetParam(), academic_fixed_toml());
  const at::Tensor x = random_input({4, 3, 32, 32}, 7);
  const at::Tensor ref = run_torchscript(model_path(GetParam()), x);
  at::NoGradGuard no_grad;
  // Disabled: exactly the float model (Academic does not fold BN).
  pm.set_mode(QuantMode::Disabled);
  EXPECT_TRUE(at::equal(pm.forward(x), ref));
  calibrate(pm, {4, 3, 32, 32});
  // Calibration only observes: output unchanged, qparams now set.
  pm.set_mode(QuantMode::Calibrate);
  EXPECT_TRUE(at::equal(pm.forward(x), ref));
  pm.set_mode(QuantMode::Quantize);
  const at::Tensor q = pm.forward(x);
  EXPECT_TRUE(at::equal(pm.float_forward({x}), ref));  // every site off, modes restored
  EXPECT_TRUE(at::equal(pm.forward(x), q));
  ASSERT_TRUE(at::isfinite(q).all().item<bool>());
  EXPECT_FALSE(at::equal(q, ref));
  EXPECT_GT(sqnr_db(ref, q), 30.0);
  for (const auto& s : pm.sites()) EXPECT_TRUE(pm.qparams(s.name).scale.ne(1.0).all().item<bool>()) << s.name;
}

INSTANTIATE_TEST_SUITE_P(ScriptedAndTraced, SmallCnn,
                         ::testing::Values("small_cnn_scripted", "small_cnn_traced"));

TEST(Prepare, GradientsReachWeightsAndInputsThroughSites) {
  PreparedModel pm = prepare_generated("small_cnn_traced", academic_fixed_toml());
  calibrate(pm, {4, 3, 32, 32});
  pm.set_training(true);
  auto params = pm.parameters();
  ASSERT_FALSE(params.empty());
  for (const auto& p : params) EXPECT_TRUE(p.second.requires_grad()) << p.first;
  at::Tensor x = random_input({2, 3, 32, 32}, 3).set_requires_grad(true);
  at::Tensor y = pm.forward(x);
  y.pow(2).sum().backward();
  int with_grad = 0;
  for (const auto& p : params) {
    if (p.first.rfind("model.", 0) != 0) continue;
    ASSERT_TRUE(p.second.grad().defined()) << p.first;
    EXPECT_TRUE(at::isfinite(p.second.grad()).all().item<bool>()) << p.first;
    with_grad += p.second.grad().abs().sum().item<double>() > 0;
  }
  EXPECT_GE(with_grad, 4);  // conv1/conv2/fc weights and biases
  ASSERT_TRUE(x.grad().defined());
  EXPECT_GT(x.grad().abs().sum().item<double>(), 0);
}

TEST(Prepare, LearnableQuantizerParametersGetGradients) {
  const std::string toml =
      "backend = \"Academic\"\n[extra_qconfig]\nw_observer = \"MinMaxObserver\"\na_observer = "
      "\"MinMaxObserver\"\n"
      "w_fakequantize = \"LearnableFakeQuantize\"\na_fakequantize = \"LearnableFakeQuantize\"\n"
      "w_qscheme = { bit = 4, symmetry = true, per_channel = false }\n"
      "a_qscheme = { bit = 4, symmetry = false, per_channel = false }\n";
  PreparedModel pm = prepare_generated("small_cnn_scripted", toml);
  calibrate(pm, {4, 3, 32, 32});
  pm.set_training(true);
  auto params = pm.parameters();
  int site_params = 0, with_grad = 0;
  at::Tensor y = pm.forward(random_input({2, 3, 32, 32}, 4));
  y.pow(2).sum().backward();
  for (const auto& p : params) {
    if (p.first.rfind("site.", 0) != 0) continue;
    ++site_params;
    if (p.second.grad().defined() && p.second.grad().abs().sum().item<double>() > 0) ++with_grad;
  }
  EXPECT_GE(site_params, 6);  // a scale at least per site
  EXPECT_GE(with_grad, 6) << "learnable scales without gradient";
}

TEST(Prepare, PerSiteModeAndErrorReport) {
  PreparedModel pm = prepare_generated("small_cnn_traced", academic_fixed_toml(8, 4));
  calibrate(pm, {4, 3, 32, 32});
  const at::Tensor x = random_input({2, 3, 32, 32}, 9);
  const auto report = pm.error_report({{x}});
  ASSERT_EQ(report.size(), pm.sites().size());
  double conv2_in = 0, conv1_in = 0;
  for (const auto& r : report) {
    EXPECT_GT(r.elements, 0) << r.name;
    EXPECT_TRUE(std::isfinite(r.sqnr_db)) << r.name;
    if (r.name == "conv2.input") conv2_in = r.sqnr_db;
    if (r.name == "conv1.input") conv1_in = r.sqnr_db;
  }
  // 4-bit activations are ~24 dB worse than the 8-bit first layer (6 dB per bit).
  EXPECT_GT(conv1_in, conv2_in + 12) << conv1_in << " vs " << conv2_in;
  EXPECT_GT(conv2_in, 10);
  // Turning one site off moves the output; the report left every mode as it was.
  at::NoGradGuard no_grad;
  const at::Tensor all_q = pm.forward(x);
  pm.set_site_mode("conv2.input", QuantMode::Disabled);
  const at::Tensor one_off = pm.forward(x);
  EXPECT_FALSE(at::equal(all_q, one_off));
  EXPECT_FALSE(pm.quantizer("conv2.input").fake_quant_enabled());
  EXPECT_TRUE(pm.quantizer("conv1.input").fake_quant_enabled());
  EXPECT_THROW(pm.set_site_mode("conv9.input", QuantMode::Disabled), ConfigError);
}

TEST(Prepare, FrozenWeightCacheFollowsWeightAndQparamChanges) {
  PreparedModel pm = prepare_generated("small_cnn_traced", academic_fixed_toml());
  calibrate(pm, {4, 3, 32, 32});
  // Handles taken before running, so that later changes go around the PreparedModel
  // (as an optimizer step or a user's load_state would).
  at::Tensor w;
  for (const auto& p : pm.parameters())
    if (p.first == "model.conv2.weight") w = p.second;
  ASSERT_TRUE(w.defined());
  FakeQuantize& wq = pm.quantizer("conv2.weight");
  const at::Tensor x = random_input({2, 3, 32, 32}, 5);
  at::NoGradGuard no_grad;
  const at::Tensor a = pm.forward(x);
  const int64_t hits = pm.weight_cache_hits();
  EXPECT_TRUE(at::equal(a, pm.forward(x)));     // cached weights give the same result
  EXPECT_EQ(pm.weight_cache_hits() - hits, 3);  // conv1, conv2, fc: computed once, then reused
  // In-place weight update: the cache must not serve the old value.
  w.mul_(-1.0);
  int64_t before = pm.weight_cache_hits();
  const at::Tensor b = pm.forward(x);
  EXPECT_FALSE(at::equal(a, b));
  EXPECT_EQ(pm.weight_cache_hits() - before, 2);  // conv2's weight was recomputed
  w.mul_(-1.0);
  EXPECT_TRUE(at::equal(a, pm.forward(x)));
  // New qparams for the weight site, loaded behind the model's back: recomputed.
  auto st = wq.state();
  st["scale"] = st["scale"].mul(2.0);
  wq.load_state(st);
  before = pm.weight_cache_hits();
  EXPECT_FALSE(at::equal(a, pm.forward(x)));
  EXPECT_EQ(pm.weight_cache_hits() - before, 2);
  // Gradients needed (grad mode on, weights require grad): no cache, the graph is built.
  at::AutoGradMode grad(true);
  before = pm.weight_cache_hits();
  pm.forward(x);
  EXPECT_EQ(pm.weight_cache_hits(), before);
}

TEST(Prepare, SaveLoadRoundTripIsBitExact) {
  PreparedModel pm = prepare_generated("small_cnn_scripted", academic_fixed_toml(8, 6));
  calibrate(pm, {4, 3, 32, 32});
  pm.set_site_mode("conv2.input", QuantMode::Disabled);
  const std::string file = temp_dir("saveload") + "/small.mqb";
  pm.save(file);
  PreparedModel back = PreparedModel::load(file, test_registry());
  ASSERT_EQ(back.site_names(), pm.site_names());
  const at::Tensor x = random_input({2, 3, 32, 32}, 11);
  at::NoGradGuard no_grad;
  EXPECT_TRUE(at::equal(back.forward(x), pm.forward(x)));
  for (const auto& s : pm.sites()) {
    EXPECT_TRUE(at::equal(back.qparams(s.name).scale, pm.qparams(s.name).scale)) << s.name;
    EXPECT_EQ(back.sites()[0].config.qscheme, pm.sites()[0].config.qscheme);
  }
  EXPECT_FALSE(back.quantizer("conv2.input").fake_quant_enabled());
  // Both copies live side by side: site ids do not collide.
  back.set_mode(QuantMode::Disabled);
  EXPECT_FALSE(at::equal(back.forward(x), pm.forward(x)));
  std::filesystem::remove_all(std::filesystem::path(file).parent_path());
}

TEST(Prepare, ExclusionsByModuleFunctionAndNodeName) {
  const std::string base = backend_fixed_toml("Tensorrt");
  PreparedModel all = prepare_generated("resnet18_traced", base);
  PreparedModel ex =
      prepare_generated("resnet18_traced", base + "[extra_quantizer]\nexclude_module_name = [\"layer2.0\"]\n");
  const auto a = all.site_names(), e = ex.site_names();
  // layer2.0 at depth 2: its 3 conv weights go, and the inputs only its ops consume
  // (conv2 input, both add inputs; its conv1/downsample input is shared with nothing
  // else but those two, so it goes too): 4 activations.
  EXPECT_EQ(a.size() - e.size(), 3u + 4u) << join(e);
  for (const auto& n : e) EXPECT_EQ(n.rfind("layer2.0.", 0), std::string::npos) << n;
  PreparedModel nofn =
      prepare_generated("resnet18_traced", base + "[extra_quantizer]\nexclude_function_type = [\"add\"]\n");
  for (const auto& s : nofn.sites()) EXPECT_NE(s.op, "add") << s.name;
  PreparedModel node =
      prepare_generated("resnet18_traced", base + "[extra_quantizer]\nexclude_node_name = [\"maxpool\"]\n");
  EXPECT_FALSE(has(node.site_names(), "maxpool.input"));
  EXPECT_TRUE(has(a, "maxpool.input"));
  PreparedModel extra =
      prepare_generated("resnet18_traced", base + "[extra_quantizer]\nadditional_function_type = [\"flatten\"]\n");
  EXPECT_TRUE(has(extra.site_names(), "flatten.input")) << join(extra.site_names());
}

TEST(Prepare, ConcatUpsampleAndPooling) {
  for (const char* model : {"concat_upsample_scripted", "concat_upsample_traced"}) {
    PreparedModel pm = prepare_generated(model, backend_fixed_toml("Tengine_u8"));
    const auto names = pm.site_names();
    // Tengine quantizes the inputs of cat (stem relu output, upsample output).
    bool cat_input = false;
    for (const auto& s : pm.sites()) cat_input = cat_input || s.op == "concat";
    EXPECT_TRUE(cat_input) << model << ": " << join(names);
    calibrate(pm, {2, 3, 32, 32});
    const at::Tensor x = random_input({2, 3, 32, 32}, 21);
    at::NoGradGuard no_grad;
    EXPECT_GT(sqnr_db(run_torchscript(model_path(model), x), pm.forward(x)), 30.0) << model;
  }
}

TEST(Prepare, TransformerBlockNlpBackends) {
  // TransformerBlock: linears q, k, v, o, ff1, ff2 (6 weights); matmuls q@k^T and att@v.
  // Academic_NLP: inputs of the 6 linears and the 2 matmuls: x feeds q/k/v (1 site),
  // y feeds o, ln1 output feeds ff1, gelu output feeds ff2 (3), q, k^T, softmax, v (4): 8.
  // Tensorrt_NLP adds the adds' inputs: x + o(y) (x already, o output new) and
  // ln1 + ff2 (ln1 already, ff2 output new): 10. The scores division is not an add.
  for (const char* model : {"transformer_scripted", "transformer_traced"}) {
    PreparedModel a = prepare_generated(model, backend_fixed_toml("Academic_NLP"));
    EXPECT_EQ(a.site_names().size(), 6u + 8u) << model << ": " << join(a.site_names());
    PreparedModel t = prepare_generated(model, backend_fixed_toml("Tensorrt_NLP"));
    EXPECT_EQ(t.site_names().size(), 6u + 10u) << model << ": " << join(t.site_names());
    calibrate(t, {2, 8, 32});
    const at::Tensor x = random_input({2, 8, 32}, 31);
    at::NoGradGuard no_grad;
    EXPECT_GT(sqnr_db(run_torchscript(model_path(model), x), t.forward(x)), 30.0) << model;
  }
}

TEST(Prepare, UnknownOpsStayFloatWithAWarning) {
  PreparedModel pm = prepare_generated("odd_ops_scripted", backend_fixed_toml("Tengine_u8"));
  EXPECT_EQ(pm.unsupported_ops(), std::vector<std::string>{"aten::erfinv"});
  // conv and fc still get their sites: weights 2, conv input, fc input, conv output, fc output.
  EXPECT_TRUE(has(pm.site_names(), "conv.weight"));
  EXPECT_TRUE(has(pm.site_names(), "fc.input")) << join(pm.site_names());
  calibrate(pm, {2, 3, 8, 8});
  at::NoGradGuard no_grad;
  const at::Tensor x = random_input({2, 3, 8, 8}, 41);
  EXPECT_GT(sqnr_db(run_torchscript(model_path("odd_ops_scripted"), x), pm.forward(x)), 25.0);
}

TEST(Prepare, BadInputGivesClearErrors) {
  const std::string dir = temp_dir("bad");
  { std::ofstream(dir + "/junk.pt") << "this is not a zip"; }
  try {
    prepare(dir + "/junk.pt", resolve_toml(academic_fixed_toml()), test_registry());
    FAIL() << "no error";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("not a TorchScript model"), std::string::npos) << e.what();
  }
  EXPECT_THROW(prepare(dir + "/missing.pt", resolve_toml(academic_fixed_toml()), test_registry()),
               ModelError);
  EXPECT_THROW(resolve_toml("backend = \"NoSuchBackend\"\n"), PluginError);
  try {
    prepare(model_path("identity_scripted"), resolve_toml(academic_fixed_toml()), test_registry());
    FAIL() << "no error for an empty graph";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("empty"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mqb::test
