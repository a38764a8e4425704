// Prepare options: Vitis bias quantizers, OPENVINO academic_mode, and the tracer options
// preserve_attr, concrete_args and leaf_module (spec §5.2) on TorchScript.
#include <ATen/core/grad_mode.h>
#include <ATen/TensorOperators.h>
#include <ATen/ops/abs.h>
#include <ATen/ops/clamp.h>
#include <ATen/ops/max.h>
#include <ATen/ops/min.h>
#include <ATen/ops/pow.h>
#include <ATen/ops/sum.h>
#include <ATen/ops/round.h>
#include <gtest/gtest.h>

#include <torch/csrc/jit/serialization/import.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "prepare_support.h"

namespace mqb::test {
namespace {

const SiteInfo* find_site(const PreparedModel& pm, const std::string& name) {
  for (const auto& s : pm.sites())
    if (s.name == name) return &s;
  return nullptr;
}

at::Tensor parameter(PreparedModel& pm, const std::string& name) {
  for (auto& [n, t] : pm.parameters())
    if (n == name) return t.detach();
  ADD_FAILURE() << "no parameter " << name;
  return {};
}

// MQBench's MinMaxFloorObserver for a 'param' tensor (spec §3.10), written out here
// independently of the plugin: the power-of-two scale among five candidates starting
// at floor(log2(1/b)) that rounds `x` with the least squared error, never below 2^-12.
double expected_bias_scale(const at::Tensor& x) {
  const at::Tensor xd = x.to(at::kDouble);
  const double lo = xd.min().item<double>(), hi = xd.max().item<double>();
  const double b = std::max(lo / -128.0, hi / 127.0);
  const int e0 = b < std::ldexp(1.0, -15) ? 0 : static_cast<int>(std::floor(std::log2(1.0 / b)));
  int best_e = e0;
  double best = INFINITY;
  for (int e = e0; e < e0 + 5; ++e) {
    const double step = std::ldexp(1.0, -e);
    const double loss = (at::clamp(at::round(xd / step), -128, 127) * step - xd).pow(2).sum().item<double>();
    if (loss < best) {
      best = loss;
      best_e = e;
    }
  }
  return std::ldexp(1.0, -std::min(best_e, 12));
}

const std::string kVitisFixed = backend_fixed_toml("Vitis");

// SmallCNN: conv1 has a bias, conv2 gets one from BN folding, fc has one: three bias
// sites beside the three weight sites, with MQBench's default bias quantizer.
TEST(VitisBias, EveryQuantizedWeightOpGetsABiasSiteWithItsOwnQuantizer) {
  for (const char* model : {"small_cnn_scripted", "small_cnn_traced"}) {
    PreparedModel pm = prepare_generated(model, kVitisFixed);
    for (const char* b : {"conv1.bias", "conv2.bias", "fc.bias"}) {
      const SiteInfo* s = find_site(pm, b);
      ASSERT_NE(s, nullptr) << model << ": " << b << " missing in " << site_listing(pm);
      EXPECT_EQ(s->kind, SiteKind::Weight);
      EXPECT_EQ(s->reason, "bias");
      EXPECT_EQ(s->config.fake_quantize, "TqtFakeQuantize");
      EXPECT_EQ(s->config.observer, "MinMaxFloorObserver");
      EXPECT_TRUE(s->config.qscheme.pot_scale);
      EXPECT_EQ(s->config.qscheme.quant_min(), -128);
      EXPECT_EQ(s->config.qscheme.quant_max(), 127);
    }
  }
}

TEST(VitisBias, CalibratedBiasScalesAreTheFloorSearchPowerOfTwoAndOutputsStayClose) {
  for (const char* model : {"small_cnn_scripted", "small_cnn_traced"}) {
    PreparedModel pm = prepare_generated(model, kVitisFixed);
    at::NoGradGuard no_grad;
    pm.set_mode(QuantMode::Calibrate);
    for (int i = 0; i < 2; ++i) pm.forward(random_input({4, 3, 32, 32}, 300 + i));
    pm.set_mode(QuantMode::Quantize);
    for (const char* b : {"conv1.bias", "conv2.bias", "fc.bias"}) {
      const at::Tensor bias = parameter(pm, std::string("model.") + b);
      const QParams q = pm.qparams(b);
      EXPECT_DOUBLE_EQ(q.scale.item<double>(), expected_bias_scale(bias)) << model << " " << b;
      EXPECT_EQ(q.zero_point.item<int64_t>(), 0);
    }
    const at::Tensor x = random_input({4, 3, 32, 32}, 310);
    EXPECT_GT(sqnr_db(run_torchscript(model_path(model), x), pm.forward(x)), 20.0) << model;
  }
}

TEST(VitisBias, BiasFreeConvsGetNoBiasSite) {
  // Without BN folding (QAT keeps BN), SmallCNN's conv2 has no bias: no site for it.
  PrepareOptions opt;
  opt.fold_bn = false;
  PreparedModel pm = prepare_generated("small_cnn_scripted", kVitisFixed, opt);
  EXPECT_NE(find_site(pm, "conv1.bias"), nullptr) << site_listing(pm);
  EXPECT_EQ(find_site(pm, "conv2.bias"), nullptr) << site_listing(pm);
}

const std::string kOpenVinoFixed = backend_fixed_toml("OPENVINO");

// ConcatUpsample: fuse = conv(cat([s, up(d)])). OPENVINO treats cat as a pass-through
// producer: its output (fuse's input) gets no site; academic_mode quantizes it and
// narrows symmetric 7-bit weights to [-63, 63].
TEST(OpenVinoAcademicMode, CatIsPassThroughUnlessAcademicAndWeightsNarrow) {
  for (const char* model : {"concat_upsample_scripted", "concat_upsample_traced"}) {
    PreparedModel plain = prepare_generated(model, kOpenVinoFixed);
    EXPECT_EQ(find_site(plain, "fuse.input"), nullptr) << model << ": " << site_listing(plain);
    const SiteInfo* w = find_site(plain, "fuse.weight");
    ASSERT_NE(w, nullptr);
    EXPECT_EQ(w->config.qscheme.quant_min(), -64);
    EXPECT_EQ(w->config.qscheme.quant_max(), 63);

    PreparedModel academic = prepare_generated(model, kOpenVinoFixed + "[extra_quantizer]\nacademic_mode = true\n");
    const SiteInfo* in = find_site(academic, "fuse.input");
    ASSERT_NE(in, nullptr) << model << ": " << site_listing(academic);
    EXPECT_EQ(in->config.qscheme.quant_min(), 0) << "cat of two relu outputs is unsigned";
    const SiteInfo* wa = find_site(academic, "fuse.weight");
    ASSERT_NE(wa, nullptr);
    EXPECT_EQ(wa->config.qscheme.quant_min(), -63);
    EXPECT_EQ(wa->config.qscheme.quant_max(), 63);
    EXPECT_EQ(academic.sites().size(), plain.sites().size() + 1) << site_listing(academic);
  }
}

TEST(OpenVinoAcademicMode, OtherBackendsRefuseTheKey) {
  try {
    resolve_toml(backend_fixed_toml("Tensorrt") + "[extra_quantizer]\nacademic_mode = true\n");
    FAIL() << "academic_mode accepted for Tensorrt";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("only OPENVINO"), std::string::npos) << e.what();
  }
}

// ---- tracer options on make_models.py's Options model ----------------------------
// stem conv -> relu (or sigmoid when use_relu is false) -> Mixer (conv, tanh, + x) ->
// global average pool -> fc.

const std::string kTensorrt = backend_fixed_toml("Tensorrt");

bool has_site_under(const PreparedModel& pm, const std::string& prefix) {
  for (const auto& s : pm.sites())
    if (s.name.rfind(prefix, 0) == 0) return true;
  return false;
}

at::Tensor original_forward(const at::Tensor& x, bool use_relu) {
  torch::jit::Module m = torch::jit::load(model_path("options_scripted"));
  return m.forward({x, use_relu}).toTensor();
}

TEST(LeafModule, ALeafStaysOneCallWithNoSiteInsideAndCanBeAConsumer) {
  PreparedModel inlined = prepare_generated("options_scripted", kTensorrt);
  EXPECT_NE(find_site(inlined, "mixer.conv.weight"), nullptr) << site_listing(inlined);

  PreparedModel leaf = prepare_generated("options_scripted", "leaf_module = [\"Mixer\"]\n" + kTensorrt);
  EXPECT_FALSE(has_site_under(leaf, "mixer.")) << site_listing(leaf);
  EXPECT_NE(find_site(leaf, "stem.weight"), nullptr) << site_listing(leaf);
  EXPECT_NE(find_site(leaf, "fc.weight"), nullptr) << site_listing(leaf);
  EXPECT_NE(leaf.graph_text().find("mixer"), std::string::npos);

  // With every site off the prepared model is the float model, leaf call included.
  const at::Tensor x = random_input({2, 3, 16, 16}, 400);
  at::NoGradGuard no_grad;
  leaf.set_mode(QuantMode::Disabled);
  EXPECT_TRUE(leaf.forward(x).equal(original_forward(x, true)));

  PreparedModel consumer = prepare_generated("options_scripted", "leaf_module = [\"Mixer\"]\n" + kTensorrt +
                                                        "[extra_quantizer]\nadditional_module_type = [\"Mixer\"]\n");
  const SiteInfo* in = find_site(consumer, "mixer.input");
  ASSERT_NE(in, nullptr) << site_listing(consumer);
  EXPECT_EQ(in->op, "Mixer");
}

TEST(LeafModule, PreparedModelWithALeafSavesLoadsAndDeploys) {
  PreparedModel pm = prepare_generated("options_scripted", "leaf_module = [\"Mixer\"]\n" + kTensorrt);
  at::NoGradGuard no_grad;
  pm.set_mode(QuantMode::Calibrate);
  pm.forward(random_input({2, 3, 16, 16}, 410));
  pm.set_mode(QuantMode::Quantize);
  const at::Tensor x = random_input({2, 3, 16, 16}, 411);
  const at::Tensor y = pm.forward(x);
  const std::string dir = temp_dir("leaf_module");
  pm.save(dir + "/p.mqb");
  PreparedModel back = PreparedModel::load(dir + "/p.mqb", test_registry());
  back.set_mode(QuantMode::Quantize);
  EXPECT_TRUE(back.forward(x).equal(y));
  pm.deploy(dir + "/d.pt");
  torch::jit::Module deployed = torch::jit::load(dir + "/d.pt");
  EXPECT_LT((deployed.forward({x}).toTensor() - y).abs().max().item<double>(), 1e-5);
}

TEST(ConcreteArgs, AFlagArgumentIsSpecializedAndItsBranchFolded) {
  PreparedModel pm = prepare_generated("options_scripted", kTensorrt + "[concrete_args]\nuse_relu = false\n");
  const std::string code = pm.graph_text();
  EXPECT_NE(code.find("aten::sigmoid"), std::string::npos) << code;
  EXPECT_EQ(code.find("aten::relu"), std::string::npos) << code;
  const at::Tensor x = random_input({2, 3, 16, 16}, 420);
  at::NoGradGuard no_grad;
  pm.set_mode(QuantMode::Disabled);
  // The argument stays in the signature; its value no longer matters.
  EXPECT_TRUE(pm.forward(x).equal(original_forward(x, false)));
  EXPECT_FALSE(pm.forward(x).equal(original_forward(x, true)));
}

TEST(ConcreteArgs, UnknownArgumentOrMismatchedTypeIsAClearError) {
  try {
    prepare_generated("options_scripted", kTensorrt + "[concrete_args]\nuse_gelu = true\n");
    FAIL() << "unknown argument accepted";
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("its arguments are: x, use_relu"), std::string::npos) << e.what();
  }
  try {
    prepare_generated("options_scripted", kTensorrt + "[concrete_args]\nuse_relu = 3\n");
    FAIL() << "an int accepted for a bool argument";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("use_relu"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("bool"), std::string::npos) << e.what();
  }
}

TEST(PreserveAttr, ListedAttributesAndMethodsSurviveDeployAndMissingOnesAreErrors) {
  PreparedModel pm = prepare_generated("options_scripted", kTensorrt +
                                                  "[preserve_attr]\n\"\" = [\"num_classes\", \"describe\"]\n"
                                                  "mixer = [\"conv\"]\n");
  at::NoGradGuard no_grad;
  pm.set_mode(QuantMode::Calibrate);
  pm.forward(random_input({2, 3, 16, 16}, 430));
  const std::string dir = temp_dir("preserve_attr");
  pm.deploy(dir + "/d.pt");
  torch::jit::Module deployed = torch::jit::load(dir + "/d.pt");
  EXPECT_EQ(deployed.attr("num_classes").toInt(), 5);
  EXPECT_EQ(deployed.run_method("describe").toStringRef(), "options model");

  for (const char* bad : {"[preserve_attr]\n\"\" = [\"nope\"]\n", "[preserve_attr]\nmixr = [\"conv\"]\n"}) {
    try {
      prepare_generated("options_scripted", kTensorrt + bad);
      FAIL() << "accepted: " << bad;
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find("preserve_attr"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace mqb::test
