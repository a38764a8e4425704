// STPU's min/max table (see stpu_deploy.h and DEPLOY.md). The passes run in
// deploy_stpu.py's order, since later ones read what earlier ones wrote: site records,
// Concat, bias alpha and Sigmoid, range propagation, Relu merge, emin.
#include "stpu_deploy.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

namespace mqb::stpu {

namespace {

using Table = nlohmann::json;  // key -> {min, max[, emin]} or {alpha, zero_point}

bool takes_weight(const std::string& op) { return op == "Conv" || op == "ConvTranspose" || op == "Gemm"; }

// A range a node's STPU record needs; a missing one (a site disabled or outside the
// backend's rules) leaves the toolchain without data, so it is an error, not a gap.
const nlohmann::json& need(const Table& t, const std::string& key, const DeployNode& n, const std::string& what) {
  auto it = t.find(key);
  if (it == t.end())
    throw ModelError("STPU deploy: " + n.op_type + " node '" + n.name + "' needs the range of its " + what + " ('" +
                     key + "'), which no enabled site quantizes");
  return *it;
}

double max_of(const nlohmann::json& r) { return r.at("max").get<double>(); }
double step_of(const nlohmann::json& r) { return (max_of(r) - r.at("min").get<double>()) / 254.0; }

// Activations by tensor; Conv/ConvTranspose/Gemm weights by their consumer,
// "<node>_weights" (MQBench records ConvTranspose weights by tensor and then fails to
// find them for emin; here they are keyed like Conv's).
void site_records(const DeployContext& ctx, Table& t) {
  for (const DeploySite& s : ctx.sites()) {
    if (s.per_channel()) throw Error("STPU deploy: site '" + s.name + "' is per-channel; STPU is per tensor");
    const nlohmann::json r = {{"min", s.range_min()}, {"max", s.range_max()}};
    bool by_node = false;
    if (s.is_weight)
      for (const auto& [node, index] : ctx.graph().consumers(s.tensor))
        if (index == 1 && takes_weight(node->op_type)) {
          t[node->name + "_weights"] = r;
          by_node = true;
        }
    if (!by_node) t[s.tensor] = r;
  }
}

// A Concat's inputs share its output's range (copies: MQBench aliases one dict, so an
// emin set later on one tensor would show on all of them).
void concat_inputs(const DeployGraph& g, Table& t) {
  for (const DeployNode& n : g.nodes) {
    if (n.op_type != "Concat" || !t.contains(n.outputs.at(0))) continue;
    const nlohmann::json r = t[n.outputs[0]];
    for (const std::string& in : n.inputs) t[in] = r;
  }
}

// Bias step = weight step * input step (zero point 0); Sigmoid outputs span [-1, 1].
void bias_alphas_and_sigmoids(const DeployGraph& g, Table& t) {
  for (const DeployNode& n : g.nodes) {
    if ((n.op_type == "Conv" || n.op_type == "Gemm") && n.inputs.size() == 3 && !n.inputs[2].empty()) {
      const double alpha = step_of(need(t, n.name + "_weights", n, "weight")) * step_of(need(t, n.inputs[0], n, "input"));
      t[n.name + "_bias"] = {{"alpha", alpha}, {"zero_point", 0}};
    }
    if (n.op_type == "Sigmoid") t[n.outputs.at(0)] = {{"min", -1.0}, {"max", 1.0}};
  }
}

// STPU runs conv+relu as one layer: the layer's output range is the relu's.
void merge_relus(const DeployGraph& g, Table& t) {
  for (const DeployNode& n : g.nodes)
    if (n.op_type == "Relu" && t.contains(n.outputs.at(0)) && g.producer(n.inputs.at(0)))
      t[n.inputs[0]] = t[n.outputs[0]];
}

// The "magic" exponent MQBench stores in a layer's output record.
void emins(const DeployGraph& g, Table& t) {
  for (const DeployNode& n : g.nodes) {
    const std::string& out = n.outputs.at(0);
    // opset 13 upsamples with Resize; MQBench tests for Upsample, which a torch export
    // at opset 13 never has, so its interp emin is never written (DEPLOY.md).
    if (n.op_type == "Resize" || n.op_type == "Upsample" || n.op_type == "DynamicUpsample") {
      const int emin = biased_exponent(max_of(need(t, out, n, "output"))) - 20;
      t[out]["emin"] = emin;
    }
    if (n.op_type == "Conv" || n.op_type == "ConvTranspose") {
      const DeployInitializer* w = g.initializer(n.inputs.at(1));
      if (!w || w->shape.size() < 2)
        throw ModelError("STPU deploy: " + n.op_type + " node '" + n.name + "' has no weight initializer");
      double fan = 1;  // w.shape[1] * w.shape[2] * w.shape[3] for 2-d convolutions
      for (size_t d = 1; d < w->shape.size(); ++d) fan *= static_cast<double>(w->shape[d]);
      const double vmax = std::max(std::sqrt(fan) * max_of(need(t, n.inputs[0], n, "input")) *
                                       max_of(need(t, n.name + "_weights", n, "weight")),
                                   max_of(need(t, out, n, "output")));
      t[out]["emin"] = biased_exponent(vmax) - 10;
    }
    if (n.op_type == "Gemm") {
      need(t, out, n, "output");
      t[out]["emin"] = 128;
    }
  }
}

}  // namespace

int biased_exponent(double v) {
  v = std::fabs(v);  // MQBench's find_e compares the signed value (spec §8.35)
  if (v == 0) return 0;
  if (!std::isfinite(v)) return 254;
  int e2 = 0;
  std::frexp(v, &e2);  // v = m * 2^e2 with m in [0.5, 1): the unbiased exponent is e2 - 1
  const int e = e2 - 1 + 127;
  if (e < 1) return 1;
  if (e > 253) return 254;
  return e;
}

void write_deploy_files(DeployContext& ctx) {
  ctx.write_onnx(ctx.model_name() + "_for_stpu.onnx", OnnxForm::Float);
  const DeployGraph& g = ctx.graph();
  Table t = Table::object();
  site_records(ctx, t);
  concat_inputs(g, t);
  bias_alphas_and_sigmoids(g, t);
  for (const RangeCopy& c : propagated_ranges(g, [&](const std::string& x) { return t.contains(x); }))
    t[c.to] = t[c.from];
  merge_relus(g, t);
  emins(g, t);
  ctx.write_json(ctx.model_name() + "_stpu_minmax.json", t);
}

}  // namespace mqb::stpu
