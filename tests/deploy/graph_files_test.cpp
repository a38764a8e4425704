// The deploy graph (DeployContext::graph()) and the backend records built on it: STPU's
// "<node>_weights", bias alpha, emin, Concat / Sigmoid / Relu records, Tengine's
// conv+relu(6) records and MQBench's range propagation (spec §5.7 (c)6, (f), (g)).
// Expected numbers are recomputed here from the prepared model's qparams and the
// generated models' known structure (tests/prepare/make_models.py).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "deploy_support.h"

namespace mqb::test {
namespace {

namespace fs = std::filesystem;

// A backend whose deploy hook only keeps the graph it is given.
class GraphProbe final : public BackendPreset {
 public:
  std::string name() const override { return "GraphProbe"; }
  std::optional<QConfig> default_qconfig() const override { return std::nullopt; }
  SiteRules site_rules() const override { return {}; }
  void deploy(DeployContext& ctx) const override { graph = ctx.graph(); }
  mutable DeployGraph graph;
};

DeployGraph graph_of(const PreparedModel& pm, const std::vector<int64_t>& shape) {
  GraphProbe probe;
  DeployOptions o;
  o.input_shape = shape;
  o.input_shape[0] = 1;
  deploy_model(pm, probe, temp_dir("graph_probe"), o);
  return probe.graph;
}

// A generated model calibrated and deployed with `backend`'s defaults, and its float graph.
struct Deployed {
  PreparedModel pm;
  DeployGraph graph;
  fs::path dir;
};

Deployed deployed(const std::string& model, const std::string& backend, const std::vector<int64_t>& shape) {
  PreparedModel pm = calibrated(model, "backend = \"" + backend + "\"\n", shape);
  DeployGraph g = graph_of(pm, shape);
  const fs::path dir = temp_dir("graph_" + model + "_" + backend);
  deploy_to(pm, dir, shape);
  return {std::move(pm), std::move(g), dir};
}

// The one node of `op_type` reading `tensor` at input `index`.
const DeployNode& reader(const DeployGraph& g, const std::string& tensor, const std::string& op_type, size_t index) {
  const DeployNode* found = nullptr;
  for (const DeployNode& n : g.nodes)
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (n.inputs[i] == tensor && n.op_type == op_type && i == index) {
        EXPECT_EQ(found, nullptr) << tensor << " read by two " << op_type << " nodes";
        found = &n;
      }
  if (!found) throw std::runtime_error("no " + op_type + " reads " + tensor);
  return *found;
}

const DeployNode& writer(const DeployGraph& g, const std::string& tensor) {
  for (const DeployNode& n : g.nodes)
    for (const std::string& o : n.outputs)
      if (o == tensor) return n;
  throw std::runtime_error("no node writes " + tensor);
}

// E(v) of spec §5.7 (g), read off the float32 bit pattern: the biased exponent field,
// 0 for 0, 1 for subnormals, 254 for inf.
int ieee_exponent(double v) {
  const float f = std::fabs(static_cast<float>(v));
  if (f == 0) return 0;
  uint32_t bits = 0;
  std::memcpy(&bits, &f, sizeof bits);
  const int e = static_cast<int>((bits >> 23) & 0xffu);
  return e == 0 ? 1 : (e == 255 ? 254 : e);
}

// STPU's grid is [-127, 127] with zero point 0: a site's range is +-127 * scale.
double range_of(const PreparedModel& pm, const std::string& site) { return 127.0 * scale_of(pm, site); }

void expect_range(const nlohmann::json& j, const std::string& key, double max, const std::string& why) {
  ASSERT_TRUE(j.contains(key)) << key << " (" << why << ")";
  EXPECT_NEAR(j.at(key).at("max").get<double>(), max, 1e-12 * max) << key << " (" << why << ")";
  EXPECT_NEAR(j.at(key).at("min").get<double>(), -max, 1e-12 * max) << key << " (" << why << ")";
}

// ---- the graph itself ----------------------------------------------------------------

// A hand-built graph: look-ups, and propagation along Flatten -> Reshape -> Gemm.
TEST(DeployGraph, LookupsAndRangePropagation) {
  DeployGraph g;
  g.inputs = {"x"};
  g.outputs = {"z"};
  g.initializers = {{"w", {4, 2, 1, 1}, {}}, {"shape", {2}, {0, -1}}, {"w2", {3, 8}, {}}};
  g.nodes = {{"conv", "Conv", {"x", "w"}, {"a"}},          {"flat", "Flatten", {"a"}, {"f"}},
             {"reshape", "Reshape", {"f", "shape"}, {"r"}}, {"gemm", "Gemm", {"r", "w2"}, {"y"}},
             {"flat2", "Flatten", {"y"}, {"f2"}},           {"relu", "Relu", {"f2"}, {"z"}},
             {"up", "Resize", {"x"}, {"u"}}};
  EXPECT_EQ(g.producer("r"), &g.nodes[2]);
  EXPECT_EQ(g.producer("x"), nullptr);  // graph input
  EXPECT_EQ(g.producer("w"), nullptr);  // initializer
  const auto readers = g.consumers("x");
  ASSERT_EQ(readers.size(), 2u);
  EXPECT_EQ(readers[0].first, &g.nodes[0]);
  EXPECT_EQ(readers[1].first, &g.nodes[6]);
  EXPECT_EQ(readers[1].second, 0u);
  ASSERT_NE(g.initializer("shape"), nullptr);
  EXPECT_EQ(g.initializer("shape")->values, (std::vector<double>{0, -1}));
  EXPECT_EQ(g.initializer("a"), nullptr);

  // Records on r (Gemm's input) and x (the Resize's input, which needs nothing). a and f
  // reach r through the Flatten/Reshape chain; f2 reaches only a Relu without a record.
  const auto copies = propagated_ranges(g, [](const std::string& t) { return t == "r" || t == "x"; });
  ASSERT_EQ(copies.size(), 2u);
  EXPECT_EQ(copies[0].to, "a");
  EXPECT_EQ(copies[0].from, "r");
  EXPECT_EQ(copies[1].to, "f");
  EXPECT_EQ(copies[1].from, "r");
}

// small_cnn (tests/prepare/make_models.py) after BN folding: conv-relu-pool twice, flatten,
// linear. Site tensors are the graph's tensor names; weights are initializers of the
// modules' shapes.
TEST(DeployGraph, SmallCnnFloatGraphCarriesTheSiteTensors) {
  const std::vector<int64_t> shape = {2, 3, 32, 32};
  PreparedModel pm = calibrated("small_cnn_scripted", "backend = \"STPU\"\n", shape);
  const DeployGraph g = graph_of(pm, shape);
  std::vector<std::string> ops;
  for (const DeployNode& n : g.nodes) ops.push_back(n.op_type);
  EXPECT_EQ(ops, (std::vector<std::string>{"Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm"}));
  EXPECT_EQ(g.inputs, std::vector<std::string>{"conv1.input"});
  EXPECT_EQ(g.outputs, std::vector<std::string>{"fc.output"});

  const std::map<std::string, std::vector<int64_t>> weight_shapes = {
      {"conv1.weight", {8, 3, 3, 3}}, {"conv2.weight", {16, 8, 3, 3}}, {"fc.weight", {10, 1024}}};
  for (const SiteInfo& s : pm.sites()) {
    if (s.kind == SiteKind::Weight) {
      ASSERT_NE(g.initializer(s.name), nullptr) << s.name;
      EXPECT_EQ(g.initializer(s.name)->shape, weight_shapes.at(s.name)) << s.name;
      EXPECT_TRUE(g.initializer(s.name)->values.empty()) << s.name;  // weights carry no values
    } else if (s.name != "conv1.input") {
      EXPECT_NE(g.producer(s.name), nullptr) << s.name;
    }
  }
  // TotalINT moves a conv's output site past its relu.
  EXPECT_EQ(writer(g, "conv1.output").op_type, "Relu");
  EXPECT_EQ(writer(g, "conv2.output").op_type, "Relu");
  EXPECT_EQ(reader(g, "conv1.weight", "Conv", 1).inputs.at(0), "conv1.input");
  EXPECT_EQ(reader(g, "fc.weight", "Gemm", 1).outputs.at(0), "fc.output");
}

// ---- STPU ------------------------------------------------------------------------------

// small_cnn: "<node>_weights", bias alpha = s_w * s_in (w_α = (127 s + 127 s) / 254),
// relu range on the conv output, conv emin from sqrt(n)·in_max·w_max and out_max, Gemm
// emin 128, the Flatten input's range propagated from flatten.output.
TEST(StpuFiles, WeightsBiasAlphaReluMergeEminAndPropagation) {
  const Deployed d = deployed("small_cnn_scripted", "STPU", {4, 3, 32, 32});
  const PreparedModel& pm = d.pm;
  const DeployGraph& g = d.graph;
  const auto j = read_json(d.dir / "model_stpu_minmax.json");

  struct Layer {
    std::string weight, input, output, op;
    double fan;  // w.shape[1] * w.shape[2] * w.shape[3] from the module definitions
  };
  const std::vector<Layer> layers = {{"conv1.weight", "conv1.input", "conv1.output", "Conv", 3 * 3 * 3},
                                     {"conv2.weight", "pool.output", "conv2.output", "Conv", 8 * 3 * 3},
                                     {"fc.weight", "flatten.output", "fc.output", "Gemm", 0}};
  for (const Layer& l : layers) {
    SCOPED_TRACE(l.weight);
    const DeployNode& node = reader(g, l.weight, l.op, 1);
    EXPECT_EQ(node.inputs.at(0), l.input);
    EXPECT_FALSE(j.contains(l.weight));
    expect_range(j, node.name + "_weights", range_of(pm, l.weight), "weight");
    // BN folding gives conv2 (bias=False in the module) a bias too.
    ASSERT_EQ(node.inputs.size(), 3u);
    const auto& bias = j.at(node.name + "_bias");
    EXPECT_NEAR(bias.at("alpha").get<double>(), scale_of(pm, l.weight) * scale_of(pm, l.input),
                1e-12 * bias.at("alpha").get<double>());
    EXPECT_EQ(bias.at("zero_point").get<int>(), 0);
    const std::string out = node.outputs.at(0);
    if (l.op == "Gemm") {
      EXPECT_EQ(out, l.output);
      EXPECT_EQ(j.at(out).at("emin").get<int>(), 128);
      continue;
    }
    expect_range(j, out, range_of(pm, l.output), "the relu's range on the conv output");
    const double vmax =
        std::max(std::sqrt(l.fan) * range_of(pm, l.input) * range_of(pm, l.weight), range_of(pm, l.output));
    EXPECT_EQ(j.at(out).at("emin").get<int>(), ieee_exponent(vmax) - 10);
  }
  const DeployNode& flatten = writer(g, "flatten.output");
  expect_range(j, flatten.inputs.at(0), range_of(pm, "flatten.output"), "propagated");
  for (const auto& [key, record] : j.items())
    for (const auto& [field, value] : record.items()) EXPECT_TRUE(value.is_number()) << key << "." << field;
}

// concat_upsample: both Concat inputs get fuse.input's range (the Concat output); the
// upsample (Resize, the tensor of the up_1.output site in its scripted branch) gets
// emin = E(out_max) - 20, its range being the Concat's.
TEST(StpuFiles, ConcatInputsShareTheOutputRangeAndResizeGetsItsEmin) {
  const Deployed d = deployed("concat_upsample_scripted", "STPU", {4, 3, 32, 32});
  const PreparedModel& pm = d.pm;
  const DeployGraph& g = d.graph;
  const auto j = read_json(d.dir / "model_stpu_minmax.json");

  const DeployNode& concat = writer(g, "fuse.input");
  ASSERT_EQ(concat.op_type, "Concat");
  ASSERT_EQ(concat.inputs.size(), 2u);
  const double max = range_of(pm, "fuse.input");
  for (const std::string& in : concat.inputs) expect_range(j, in, max, "concat input");
  const DeployNode& resize = writer(g, concat.inputs[1]);
  ASSERT_EQ(resize.op_type, "Resize");
  EXPECT_EQ(resize.outputs.at(0), "up_1.output");
  EXPECT_EQ(j.at("up_1.output").at("emin").get<int>(), ieee_exponent(max) - 20);
}

// sigmoid_gate: the Sigmoid output's record is [-1, 1] whatever its site calibrated.
TEST(StpuFiles, SigmoidOutputSpansMinusOneToOne) {
  const Deployed d = deployed("sigmoid_gate_scripted", "STPU", {4, 3, 8, 8});
  const PreparedModel& pm = d.pm;
  const DeployGraph& g = d.graph;
  const auto j = read_json(d.dir / "model_stpu_minmax.json");
  const DeployNode& sigmoid = reader(g, "gate.output", "Sigmoid", 0);
  // The site there calibrated max|sigmoid| < 1: the record is not the site's own.
  EXPECT_LT(range_of(pm, sigmoid.outputs.at(0)), 1.0 - 1e-6);
  expect_range(j, sigmoid.outputs.at(0), 1.0, "sigmoid output");
}

// ---- Tengine ---------------------------------------------------------------------------

std::map<std::string, ScaleLine> scale_lines(const fs::path& file) {
  std::map<std::string, ScaleLine> m;
  for (const ScaleLine& l : read_scale_lines(file)) {
    EXPECT_FALSE(m.count(l.name)) << l.name << " written twice";
    m[l.name] = l;
  }
  return m;
}

void expect_site_record(const std::map<std::string, ScaleLine>& lines, const std::string& tensor,
                        const PreparedModel& pm, const std::string& site) {
  ASSERT_TRUE(lines.count(tensor)) << tensor;
  const double s = scale_of(pm, site);
  const auto zp = static_cast<int64_t>(std::lround(pm.qparams(site).zero_point.flatten()[0].item<double>()));
  EXPECT_NEAR(lines.at(tensor).scale, s, 1e-8 * s) << tensor << " <- " << site;
  EXPECT_EQ(lines.at(tensor).zero_point, zp) << tensor << " <- " << site;
}

// small_cnn: each conv output feeding a relu carries the relu output site's record, and
// the Flatten input carries flatten.output's; nothing else is added.
TEST(TengineFiles, ReluFedConvOutputsAndPropagatedRanges) {
  const Deployed d = deployed("small_cnn_scripted", "Tengine_u8", {4, 3, 32, 32});
  const PreparedModel& pm = d.pm;
  const DeployGraph& g = d.graph;
  const auto lines = scale_lines(d.dir / "model_for_tengine.scale");
  for (const std::string conv : {"conv1", "conv2"}) {
    const DeployNode& node = reader(g, conv + ".weight", "Conv", 1);
    EXPECT_EQ(reader(g, node.outputs.at(0), "Relu", 0).outputs.at(0), conv + ".output");
    expect_site_record(lines, node.outputs.at(0), pm, conv + ".output");
  }
  expect_site_record(lines, writer(g, "flatten.output").inputs.at(0), pm, "flatten.output");
  EXPECT_EQ(lines.size(), pm.sites().size() + 3);
}

// mobilenet_v2: its 35 ReLU6 (stem, one in the first block, two in each of the other 16,
// the last 1x1 conv) are Clip(0, 6) after a Conv; every such Conv output carries the
// record of the Clip output's site.
TEST(TengineFiles, Relu6FedConvOutputsCarryTheClipRecord) {
  const Deployed d = deployed("mobilenet_v2_scripted", "Tengine_u8", {2, 3, 64, 64});
  const PreparedModel& pm = d.pm;
  const DeployGraph& g = d.graph;
  const auto lines = scale_lines(d.dir / "model_for_tengine.scale");
  std::set<std::string> site_names;  // activation sites name their tensors
  for (const SiteInfo& s : pm.sites()) site_names.insert(s.name);
  int fused = 0;
  for (const DeployNode& clip : g.nodes) {
    if (clip.op_type != "Clip" || writer(g, clip.inputs.at(0)).op_type != "Conv") continue;
    ASSERT_EQ(g.initializer(clip.inputs.at(1))->values, std::vector<double>{0});
    ASSERT_EQ(g.initializer(clip.inputs.at(2))->values, std::vector<double>{6});
    ASSERT_TRUE(site_names.count(clip.outputs.at(0))) << clip.outputs.at(0);
    expect_site_record(lines, clip.inputs.at(0), pm, clip.outputs.at(0));
    ++fused;
  }
  EXPECT_EQ(fused, 35);
}

}  // namespace
}  // namespace mqb::test
