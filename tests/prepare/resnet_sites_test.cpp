// Site lists on torchvision ResNet-18 for every backend, and 8-bit accuracy.
//
// Expected counts, derived by hand from the architecture and MQBench spec §2.4.
// ResNet-18: stem conv1(+bn1+relu) -> maxpool -> 8 BasicBlocks (layer1.0 .. layer4.1;
// layer2.0, layer3.0, layer4.0 have a downsample conv) -> avgpool -> flatten -> fc.
// Block: conv1(+bn+relu) -> conv2(+bn) -> add(identity | downsample) -> relu.
// Weights: 1 stem + 16 block convs + 3 downsample convs + fc = 21 (ONNX_QNN: fc is
// not swapped, 20).
// Activations, one site per distinct tensor:
//  * ModelQuantizer (Tensorrt, NNIE, QDQ), inputs of conv/linear/add/pools:
//    x 1, stem relu (maxpool input) 1, maxpool output 1, per block conv1-relu output
//    (conv2 input), conv2 output (add input), block output (next conv1/add or avgpool
//    input) 3 x 8 = 24, downsample outputs 3, flatten output (fc input) 1  -> 31.
//  * Academic, inputs of conv/linear only (no add, no pools): x 1, block inputs 8
//    (maxpool output + 7 block outputs), conv2 inputs 8, fc input 1     -> 18.
//  * Academic_NLP, inputs of linear/matmul: fc input                     -> 1.
//  * Tensorrt_NLP, inputs of add/matmul/linear: both inputs of 8 adds (8 conv2
//    outputs + 8 distinct identities) 16, fc input 1                      -> 17.
//  * TotalINT (SNPE, PPLW8A16, PPLCUDA, STPU): ModelQuantizer's 31 plus outputs of
//    the same ops; relu/flatten users pass the site on, so only fc's output (the
//    network output) is new                                                -> 32.
//  * Tengine_u8: inputs as ModelQuantizer 31, outputs of the listed ops with only
//    flatten passing through: the 8 add outputs (before relu) and fc output -> 40.
//  * ONNX_QNN, inputs and outputs of conv/add/avg_pool (relu passes outputs on), no
//    maxpool: x, stem relu, maxpool output, 24 block tensors, 3 downsample, avgpool
//    output (its user flatten is no relu)                                  -> 31.
//  * OPENVINO: quantized producers feeding the listed ops, except max_pool/flatten
//    outputs that feed a conv/linear (the maxpool and flatten outputs) and the fc
//    output (feeds the graph output): x, stem relu, 24 block tensors, 3 downsample,
//    avgpool output (flatten is a consumer)                                -> 30.
//  * Vitis, outputs only: stem conv(+relu) 1, per block conv1(+relu), conv2, add,
//    relu 4 x 8 = 32, downsample 3, avgpool 1, fc 1; no network input      -> 38.
//    Vitis also quantizes biases: after BN folding all 20 convs and fc have one -> 21 + 21.
#include <ATen/core/grad_mode.h>
#include <ATen/ops/isfinite.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "prepare_support.h"

namespace mqb::test {
namespace {

struct Expected {
  const char* backend;
  size_t weights;
  size_t activations;
};

const Expected kExpected[] = {{"Academic", 21, 18},     {"Academic_NLP", 21, 1}, {"Tensorrt", 21, 31},
                              {"Tensorrt_NLP", 21, 17}, {"QDQ", 21, 31},         {"NNIE", 21, 31},
                              {"STPU", 21, 32},         {"SNPE", 21, 32},        {"PPLW8A16", 21, 32},
                              {"PPLCUDA", 21, 32},      {"Tengine_u8", 21, 40},  {"ONNX_QNN", 20, 31},
                              {"OPENVINO", 21, 30},     {"Vitis", 42, 38}};

bool has_site(const PreparedModel& pm, const std::string& name) {
  const auto n = pm.site_names();
  return std::find(n.begin(), n.end(), name) != n.end();
}

class ResNetSites : public ::testing::TestWithParam<std::tuple<Expected, const char*>> {};

TEST_P(ResNetSites, CountAndPlacementMatchTheRules) {
  const Expected e = std::get<0>(GetParam());
  const std::string model = std::get<1>(GetParam());
  const std::string backend = e.backend;
  PreparedModel pm = prepare_generated(model, backend_fixed_toml(backend));
  size_t w = 0, a = 0;
  for (const auto& s : pm.sites()) (s.kind == SiteKind::Weight ? w : a)++;
  EXPECT_EQ(w, e.weights) << backend << " " << model << ": " << site_listing(pm);
  EXPECT_EQ(a, e.activations) << backend << " " << model << ": " << site_listing(pm);
  EXPECT_TRUE(pm.unsupported_ops().empty());

  const bool quantizes_input = backend != "Vitis" && backend != "Academic_NLP" && backend != "Tensorrt_NLP";
  EXPECT_EQ(has_site(pm, "conv1.input"), quantizes_input) << backend << ": " << site_listing(pm);
  EXPECT_EQ(has_site(pm, "fc.weight"), backend != "ONNX_QNN") << backend;
  EXPECT_TRUE(has_site(pm, "layer3.0.downsample.0.weight")) << backend;
  const bool fc_output = backend == "STPU" || backend == "SNPE" || backend == "PPLW8A16" ||
                         backend == "PPLCUDA" || backend == "Tengine_u8" || backend == "Vitis";
  EXPECT_EQ(has_site(pm, "fc.output"), fc_output) << backend << ": " << site_listing(pm);
  if (backend == "Tensorrt") {
    EXPECT_TRUE(has_site(pm, "maxpool.input"));
    EXPECT_TRUE(has_site(pm, "layer1.0.add.input"));   // conv2 output
    EXPECT_TRUE(has_site(pm, "layer2.0.add.input1"));  // downsample output
    EXPECT_TRUE(has_site(pm, "fc.input"));
  }
  if (backend == "Academic") {
    for (const auto& s : pm.sites()) {
      const bool io = s.name == "conv1.weight" || s.name == "conv1.input" || s.name == "fc.weight" ||
                      s.name == "fc.input";
      if (io) {
        EXPECT_EQ(s.config.qscheme.bit, 8) << s.name;
      }
    }
    EXPECT_FALSE(has_site(pm, "layer1.0.add.input"));
  }
  if (backend == "Tengine_u8") {
    EXPECT_TRUE(has_site(pm, "layer1.0.add.output"));
  }
  if (backend == "OPENVINO") {
    EXPECT_FALSE(has_site(pm, "layer1.0.conv1.input"));  // maxpool output reuses the stem quantizer
    for (const auto& s : pm.sites())
      if (s.name == "layer1.0.conv2.input") {
        EXPECT_EQ(s.config.qscheme.quant_min(), 0) << "relu output is unsigned";
      }
  }
  for (const auto& s : pm.sites()) {
    if (s.kind == SiteKind::Weight) {
      EXPECT_EQ(s.config.qscheme.ch_axis, s.config.qscheme.per_channel ? 0 : -1) << s.name;
    }
  }
}

std::vector<std::tuple<Expected, const char*>> all_cases() {
  std::vector<std::tuple<Expected, const char*>> out;
  for (const auto& e : kExpected)
    for (const char* m : {"resnet18_scripted", "resnet18_traced"}) out.emplace_back(e, m);
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllBackends, ResNetSites, ::testing::ValuesIn(all_cases()), [](const auto& info) {
  return std::string(std::get<0>(info.param).backend) + "_" + std::get<1>(info.param);
});

// Scripting and tracing give different graphs (aten::conv2d + prim::If vs
// aten::_convolution); the sites and their names must not depend on it.
TEST(ResNetSitesAgree, ScriptedAndTracedGiveTheSameSiteList) {
  for (const char* backend : {"Tensorrt", "SNPE", "OPENVINO", "Vitis"}) {
    const std::string toml =
        std::string(backend) == "Vitis"
            ? "backend = \"Vitis\"\n[extra_qconfig]\nw_fakequantize = \"FixedFakeQuantize\"\n"
              "a_fakequantize = \"FixedFakeQuantize\"\n"
            : backend_fixed_toml(backend);
    PreparedModel s = prepare_generated("resnet18_scripted", toml);
    PreparedModel t = prepare_generated("resnet18_traced", toml);
    const auto a = s.site_names(), b = t.site_names();
    std::string diff;
    for (size_t i = 0; i < std::max(a.size(), b.size()); ++i)
      if (i >= a.size() || i >= b.size() || a[i] != b[i])
        diff += "  #" + std::to_string(i) + " " + (i < a.size() ? a[i] : "-") + " | " +
                (i < b.size() ? b[i] : "-");
    EXPECT_TRUE(diff.empty()) << backend << " scripted | traced:" << diff;
  }
}

// Calibrate then quantize at 8 bits, per backend with its own default plugins
// (LearnableFakeQuantize, EMAMinMaxObserver, NNIE, TQT, ...): the output stays close
// to the float model.
class ResNetAccuracy : public ::testing::TestWithParam<const char*> {};

TEST_P(ResNetAccuracy, DefaultsAtEightBitsStayCloseToFloat) {
  const std::string backend = GetParam();
  std::string toml = "backend = \"" + backend + "\"\n";
  if (backend == "Academic") toml = academic_fixed_toml();
  if (backend == "Academic_NLP") toml = backend_fixed_toml("Academic_NLP");
  PrepareOptions opt;
  opt.warn_unsupported = false;
  PreparedModel pm = prepare(model_path("resnet18_traced"), resolve_toml(toml), test_registry(), opt);
  at::NoGradGuard no_grad;
  pm.set_mode(QuantMode::Calibrate);
  for (int i = 0; i < 4; ++i) pm.forward(random_input({4, 3, 64, 64}, 200 + i));
  pm.set_mode(QuantMode::Quantize);
  const at::Tensor x = random_input({4, 3, 64, 64}, 300);
  const at::Tensor ref = run_torchscript(model_path("resnet18_traced"), x);
  const at::Tensor q = pm.forward(x);
  ASSERT_TRUE(at::isfinite(q).all().item<bool>());
  // Uniform 8-bit schemes with per-channel weights or 16-bit activations: > 30 dB.
  // Lower bounds where the scheme itself is coarser (measured values in
  // core/src/prepare/README.md): per-tensor symmetric [-127,127] weights (STPU), 7-bit
  // weights (OPENVINO), power-of-two scales (Vitis), log-domain codes (NNIE).
  double min_db = 30.0;
  if (backend == "STPU") min_db = 28.0;
  if (backend == "OPENVINO") min_db = 25.0;
  if (backend == "Vitis") min_db = 24.0;
  if (backend == "NNIE") min_db = 22.0;
  const double db = sqnr_db(ref, q);
  RecordProperty("sqnr_db", std::to_string(db));
  std::printf("[ SQNR     ] %s: %.2f dB\n", backend.c_str(), db);
  EXPECT_GT(db, min_db) << backend;
}

INSTANTIATE_TEST_SUITE_P(AllBackends, ResNetAccuracy,
                         ::testing::Values("Academic", "Academic_NLP", "Tensorrt", "Tensorrt_NLP", "QDQ",
                                           "NNIE", "STPU", "SNPE", "PPLW8A16", "PPLCUDA", "Tengine_u8",
                                           "ONNX_QNN", "OPENVINO", "Vitis"));

// MobileNetV2 (torchvision): features.0 ConvBNReLU6, 17 InvertedResidual blocks (block 1:
// dw ConvBNReLU6 + pw-linear conv; blocks 2..17: pw ConvBNReLU6, dw ConvBNReLU6, pw-linear
// conv; 10 of them add the block input), features.18 ConvBNReLU6, adaptive_avg_pool2d,
// flatten, dropout, linear. Weights: 52 convs + linear = 53. ReLU6 is not fused
// (hardtanh after the BN-folded conv).
// Tensorrt (inputs of conv/add/pool/linear): x 1, the 35 relu6 outputs (each feeds a conv
// or the pool), 17 block outputs (next block / features.18), 10 pw-linear outputs feeding
// an add, the dropout output feeding the classifier 1 -> 64.
// SNPE (TotalINT) adds outputs: conv outputs pass through relu6 (already there), the pool
// output passes through flatten (+1: the flatten output), the classifier output (+1) -> 66.
TEST(MobileNetV2, ScriptedAndTracedSitesAndAccuracy) {
  for (const char* model : {"mobilenet_v2_scripted", "mobilenet_v2_traced"}) {
    PrepareOptions opt;
    opt.warn_unsupported = false;
    PreparedModel pm =
        prepare(model_path(model), resolve_toml(backend_fixed_toml("Tensorrt")), test_registry(), opt);
    size_t w = 0, a = 0;
    for (const auto& s : pm.sites()) (s.kind == SiteKind::Weight ? w : a)++;
    EXPECT_EQ(w, 53u) << model;
    EXPECT_EQ(a, 64u) << model << ": " << site_listing(pm);
    PreparedModel snpe =
        prepare(model_path(model), resolve_toml(backend_fixed_toml("SNPE")), test_registry(), opt);
    EXPECT_EQ(snpe.sites().size(), 53u + 66u) << model << ": " << site_listing(snpe);
    at::NoGradGuard no_grad;
    pm.set_mode(QuantMode::Calibrate);
    for (int i = 0; i < 2; ++i) pm.forward(random_input({4, 3, 64, 64}, 400 + i));
    pm.set_mode(QuantMode::Quantize);
    const at::Tensor x = random_input({4, 3, 64, 64}, 500);
    EXPECT_GT(sqnr_db(run_torchscript(model_path(model), x), pm.forward(x)), 30.0) << model;
  }
}

}  // namespace
}  // namespace mqb::test
