// The QLinear form (ONNX_QNN's deploy model): which ops become integer ops, that the
// integer weights and biases are the simulation's codes (derived here from the float
// weights and the qparams, independently of the pass), and that ONNX Runtime running it
// reproduces the simulation.
#define ONNX_NAMESPACE onnx
#define ONNX_ML 1
#include <ATen/ops/abs.h>
#include <ATen/ops/argmax.h>
#include <ATen/ops/eq.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <map>

#include "deploy_support.h"
#include "mqb/host/onnx_export.h"
#include "mqb/host/verify.h"

namespace mqb::test {
namespace {

namespace fs = std::filesystem;

::onnx::ModelProto load_onnx(const fs::path& file) {
  ::onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(read_text(file))) << file;
  return m;
}

std::map<std::string, int> op_counts(const ::onnx::ModelProto& m) {
  std::map<std::string, int> counts;
  for (const auto& n : m.graph().node()) ++counts[n.op_type()];
  return counts;
}

const ::onnx::TensorProto& initializer(const ::onnx::ModelProto& m, const std::string& name) {
  for (const auto& t : m.graph().initializer())
    if (t.name() == name) return t;
  throw std::runtime_error("no initializer " + name);
}

template <typename T>
std::vector<T> values(const ::onnx::TensorProto& t) {
  std::vector<T> v(t.raw_data().size() / sizeof(T));
  std::memcpy(v.data(), t.raw_data().data(), v.size() * sizeof(T));
  return v;
}

fs::path export_qlinear(const PreparedModel& pm, const std::string& name, const std::vector<int64_t>& shape) {
  const fs::path file = fs::path(temp_dir("qlinear_" + name)) / "model_qlinear.onnx";
  OnnxExportOptions o;
  o.form = OnnxForm::QLinear;
  o.input_shape = shape;
  o.input_shape[0] = 1;
  export_onnx(pm, file, o);
  return file;
}

// ONNX Runtime on the QLinear model against the simulation on one random batch.
void expect_matches_simulation(PreparedModel& pm, const fs::path& onnx, const std::vector<int64_t>& shape,
                               double min_sqnr_db) {
  std::vector<int64_t> big = shape;
  big[0] = 32;
  const at::Tensor x = random_input(big, 4243);
  const at::Tensor ours = pm.forward(x).detach();
  const at::Tensor theirs = run_onnx_runtime(onnx, x);
  ASSERT_EQ(theirs.sizes(), ours.sizes());
  const double sqnr = sqnr_db(ours, theirs);
  const double agree = at::eq(theirs.argmax(-1), ours.argmax(-1)).to(at::kDouble).mean().item<double>();
  EXPECT_GT(sqnr, min_sqnr_db) << onnx;
  EXPECT_GE(agree, 0.95) << onnx;
  std::printf("[ qlinear ] %-40s SQNR %.1f dB  argmax agreement %.3f\n", onnx.parent_path().filename().c_str(), sqnr,
              agree);
}

// ONNX_QNN's deploy folder holds the QLinear model; both convs (with their merged
// ReLUs) are integer ops, and the manifest lists it for `verify`.
TEST(QLinearForm, OnnxQnnDeployWritesIntegerConvs) {
  const std::vector<int64_t> shape = {4, 3, 32, 32};
  PreparedModel pm = calibrated("small_cnn_scripted", backend_fixed_toml("ONNX_QNN"), shape);
  const fs::path dir = temp_dir("qlinear_onnx_qnn_deploy");
  deploy_to(pm, dir, shape);
  const auto manifest = read_json(dir / "deploy.json");
  bool listed = false;
  for (const auto& e : manifest.at("onnx_models"))
    listed |= e.at("file") == "model_qlinear.onnx" && e.at("form") == "qlinear";
  EXPECT_TRUE(listed) << manifest.at("onnx_models").dump();

  const auto counts = op_counts(load_onnx(dir / "model_qlinear.onnx"));
  EXPECT_EQ(counts.count("QLinearConv") ? counts.at("QLinearConv") : 0, 2);
  EXPECT_EQ(counts.count("Conv"), 0u);
  EXPECT_EQ(counts.count("Relu"), 0u);  // both sit between a conv and a uint8 grid with zero point 0
  expect_matches_simulation(pm, dir / "model_qlinear.onnx", shape, 40.0);
}

// Weight codes = clamp(nearbyint(w * (1/s)) + z, 0, 255) in float32 as ATen's fake
// quantizer computes them; bias = round(b / (s_x * s_w)) as int32.
TEST(QLinearForm, WeightCodesAndInt32BiasAreTheSimulations) {
  const std::vector<int64_t> shape = {4, 3, 32, 32};
  PreparedModel pm = calibrated("small_cnn_scripted", backend_fixed_toml("ONNX_QNN"), shape);
  const fs::path dir = temp_dir("qlinear_codes");
  const DeployResult r = deploy_to(pm, dir, shape);
  const auto qdq = load_onnx(r.qdq_onnx);
  const auto ql = load_onnx(dir / "model_qlinear.onnx");

  const QParams wq = pm.qparams("conv1.weight"), xq = pm.qparams("conv1.input");
  const float sw = wq.scale.to(at::kFloat).item<float>();
  const float zw = static_cast<float>(wq.zero_point.to(at::kFloat).item<float>());
  const std::vector<float> w = values<float>(initializer(qdq, "conv1.weight"));
  const std::vector<uint8_t> codes = values<uint8_t>(initializer(ql, "conv1.weight_codes"));
  ASSERT_EQ(codes.size(), w.size());
  const float inv = 1.0f / sw;
  size_t mismatches = 0, clipped = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    const float q = std::fmin(std::fmax(std::nearbyint(w[i] * inv) + zw, 0.0f), 255.0f);
    clipped += q == 0.0f || q == 255.0f;
    mismatches += static_cast<float>(codes[i]) != q;
  }
  EXPECT_EQ(mismatches, 0u);
  EXPECT_GT(clipped, 0u);  // MinMax puts the extreme weights on the grid's ends

  const double sx = xq.scale.to(at::kFloat).item<float>();
  const std::vector<float> b = values<float>(initializer(qdq, "conv1.bias"));
  const std::vector<int32_t> bias = values<int32_t>(initializer(ql, "conv1.bias_int32"));
  ASSERT_EQ(bias.size(), b.size());
  for (size_t c = 0; c < b.size(); ++c)
    EXPECT_EQ(bias[c], static_cast<int32_t>(std::lround(b[c] / (sx * static_cast<double>(sw))))) << c;
}

// A residual add, average pooling and global average pooling become com.microsoft
// QLinear ops; ReLU6 (Clip(0, 6)) in front of a grid ending at or below 6 is merged.
TEST(QLinearForm, AddPoolsAndRelu6InOnnxRuntime) {
  struct Case {
    std::string model;
    std::vector<int64_t> shape;
    std::vector<std::string> ops;
    double min_sqnr_db;
  };
  const std::vector<Case> cases = {
      {"concat_upsample_scripted", {4, 3, 32, 32}, {"QLinearConv", "QLinearAdd", "QLinearAveragePool"}, 40.0},
      {"mobilenet_v2_scripted", {2, 3, 64, 64}, {"QLinearConv", "QLinearAdd", "QLinearGlobalAveragePool"}, 30.0},
      {"resnet18_traced", {2, 3, 64, 64}, {"QLinearConv", "QLinearAdd", "QLinearGlobalAveragePool"}, 25.0}};
  for (const Case& c : cases) {
    PreparedModel pm = calibrated(c.model, backend_fixed_toml("ONNX_QNN"), c.shape);
    const fs::path file = export_qlinear(pm, c.model, c.shape);
    const auto m = load_onnx(file);
    const auto counts = op_counts(m);
    for (const std::string& op : c.ops) EXPECT_GT(counts.count(op), 0u) << c.model << " lacks " << op;
    EXPECT_EQ(counts.count("Clip"), 0u) << c.model;  // every ReLU6 merged (mobilenet has 35)
    bool contrib = false;
    for (const auto& o : m.opset_import()) contrib |= o.domain() == "com.microsoft";
    EXPECT_TRUE(contrib) << c.model;
    expect_matches_simulation(pm, file, c.shape, c.min_sqnr_db);
  }
}

// Per-channel int8 weights with uint8 activations (ONNX Runtime's U8S8 kernels).
TEST(QLinearForm, PerChannelInt8Weights) {
  const std::vector<int64_t> shape = {4, 3, 32, 32};
  const std::string toml = backend_fixed_toml("ONNX_QNN") +
                           "w_qscheme = { bit = 8, symmetry = true, per_channel = true }\n";
  PreparedModel pm = calibrated("small_cnn_scripted", toml, shape);
  const fs::path file = export_qlinear(pm, "per_channel", shape);
  const auto m = load_onnx(file);
  EXPECT_EQ(op_counts(m).at("QLinearConv"), 2);
  const auto& codes = initializer(m, "conv1.weight_codes");
  EXPECT_EQ(codes.data_type(), ::onnx::TensorProto::INT8);
  EXPECT_EQ(initializer(m, "conv1.weight.scale").dims_size(), 1);
  expect_matches_simulation(pm, file, shape, 40.0);
}

}  // namespace
}  // namespace mqb::test
