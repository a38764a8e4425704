// rewrite_to_qlinear (see qlinear_pass.h). The pass reads the graph by tensor name: a
// candidate op qualifies when each quantized input comes from a per-tensor
// DequantizeLinear (weights: a DequantizeLinear of a QuantizeLinear of an initializer,
// per-channel allowed for Conv) and its output's only reader is a per-tensor
// QuantizeLinear, possibly through a Relu / Clip(0, m) that the grid makes redundant.
// The integer op then writes the QuantizeLinear's output tensor under the same name, so
// every later reader is unchanged and the node order stays topological.
#include "qlinear_pass.h"

#include <ATen/core/Tensor.h>
#include <ATen/ops/div.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/round.h>

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <vector>

#include "mqb/error.h"
#include "mqb/fake_quant_kernels.h"
#include "onnx_tensor.h"

namespace mqb {

namespace {

using ::onnx::NodeProto;
using ::onnx::TensorProto;

constexpr const char* kContribDomain = "com.microsoft";

// A tensor read through a DequantizeLinear: its integer codes and their grid.
struct Dequantized {
  std::string codes, scale, zero_point;
  int axis = -1;  // per-channel axis, -1 per tensor
};

// A float tensor whose only reader (after an optional redundant Relu/Clip) quantizes it.
struct QuantizedBy {
  int quantize_node = -1;
  int activation_node = -1;  // the Relu / Clip merged away, -1 when none
  std::string codes, scale, zero_point;
};

int64_t attr_int(const NodeProto& n, const std::string& name, int64_t fallback) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return a.i();
  return fallback;
}

class Rewriter {
 public:
  explicit Rewriter(::onnx::ModelProto& model) : model_(model), g_(*model.mutable_graph()) {
    for (int i = 0; i < g_.node_size(); ++i) {
      for (const auto& o : g_.node(i).output()) producer_[o] = i;
      for (const auto& in : g_.node(i).input())
        if (!in.empty()) readers_[in].push_back(i);
    }
    for (const auto& t : g_.initializer()) initializers_[t.name()] = &t;
    for (const auto& o : g_.output()) graph_outputs_.insert(o.name());
  }

  void run() {
    const int count = g_.node_size();
    for (int i = 0; i < count; ++i) {
      const std::string& type = g_.node(i).op_type();
      if (!g_.node(i).domain().empty()) continue;
      if (type == "Conv") convert_conv(i);
      else if (type == "Add") convert_add(i);
      else if (type == "GlobalAveragePool") convert_pool(i, "QLinearGlobalAveragePool");
      else if (type == "AveragePool") convert_pool(i, "QLinearAveragePool");
    }
    rebuild();
  }

 private:
  const NodeProto* producer(const std::string& tensor) const {
    auto it = producer_.find(tensor);
    return it == producer_.end() ? nullptr : &g_.node(it->second);
  }
  const std::vector<int>& readers(const std::string& tensor) const {
    static const std::vector<int> none;
    auto it = readers_.find(tensor);
    return it == readers_.end() ? none : it->second;
  }
  const TensorProto* initializer(const std::string& name) const {
    auto it = initializers_.find(name);
    return it == initializers_.end() ? nullptr : it->second;
  }

  std::optional<Dequantized> dequantized(const std::string& tensor, bool allow_per_channel) const {
    const NodeProto* dq = producer(tensor);
    if (!dq || dq->op_type() != "DequantizeLinear" || dq->input_size() != 3) return std::nullopt;
    Dequantized d{dq->input(0), dq->input(1), dq->input(2), -1};
    const TensorProto* scale = initializer(d.scale);
    if (!scale || !initializer(d.zero_point)) return std::nullopt;
    if (scale->dims_size() > 0) {
      if (!allow_per_channel) return std::nullopt;
      d.axis = static_cast<int>(attr_int(*dq, "axis", 1));
    }
    return d;
  }

  // The codes a QuantizeLinear's output can hold: its element type's range, or that of
  // the integer Clip a narrow grid puts after it; nullopt for a Clip with computed bounds.
  std::optional<std::pair<int64_t, int64_t>> code_bounds(const NodeProto& q) const {
    const std::vector<int>& rs = readers(q.output(0));
    if (rs.size() == 1 && g_.node(rs[0]).op_type() == "Clip") {
      const TensorProto* lo = initializer(g_.node(rs[0]).input(1));
      const TensorProto* hi = initializer(g_.node(rs[0]).input(2));
      if (!lo || !hi) return std::nullopt;
      return std::pair{tensor_of(*lo).to(at::kLong).item<int64_t>(), tensor_of(*hi).to(at::kLong).item<int64_t>()};
    }
    return code_type_range(initializer(q.input(2))->data_type());
  }

  // A Relu, or Clip(0, m), in front of a QuantizeLinear whose grid starts at real 0
  // (zero point = lowest code) and, for Clip, ends at or below m changes nothing.
  bool redundant_activation(const NodeProto& act, const NodeProto& q) const {
    const TensorProto* scale = initializer(q.input(1));
    const TensorProto* zp = initializer(q.input(2));
    if (!scale || !zp || scale->dims_size() > 0) return false;
    const int64_t z = tensor_of(*zp).to(at::kLong).item<int64_t>();
    const auto bounds = code_bounds(q);
    if (!bounds || z != bounds->first) return false;
    if (act.op_type() == "Relu") return true;
    if (act.op_type() != "Clip" || act.input_size() != 3) return false;
    const TensorProto* lo = initializer(act.input(1));
    const TensorProto* hi = initializer(act.input(2));
    if (!lo || !hi || tensor_of(*lo).item<float>() != 0.0f) return false;
    const int64_t top = code_type_range(zp->data_type()).second;
    return static_cast<double>(tensor_of(*scale).item<float>()) * static_cast<double>(top - z) <=
           static_cast<double>(tensor_of(*hi).item<float>());
  }

  std::optional<QuantizedBy> quantized_by(const std::string& tensor) const {
    if (graph_outputs_.count(tensor)) return std::nullopt;
    const std::vector<int>& rs = readers(tensor);
    if (rs.size() != 1) return std::nullopt;
    QuantizedBy out;
    int q = rs[0];
    const std::string& type = g_.node(q).op_type();
    if (type == "Relu" || type == "Clip") {
      const std::string& act_out = g_.node(q).output(0);
      if (graph_outputs_.count(act_out) || readers(act_out).size() != 1) return std::nullopt;
      out.activation_node = q;
      q = readers(act_out)[0];
    }
    const NodeProto& qn = g_.node(q);
    if (qn.op_type() != "QuantizeLinear" || qn.input_size() != 3) return std::nullopt;
    const TensorProto* scale = initializer(qn.input(1));
    if (!scale || scale->dims_size() > 0 || !initializer(qn.input(2))) return std::nullopt;
    if (out.activation_node >= 0 && !redundant_activation(g_.node(out.activation_node), qn)) return std::nullopt;
    out.quantize_node = q;
    out.codes = qn.output(0);
    out.scale = qn.input(1);
    out.zero_point = qn.input(2);
    return out;
  }

  // The integer codes of a constant weight read through DQ(Q(W)) [with an integer Clip
  // between them], as the simulation's fake quantizer rounds (x * (1/s), half to even),
  // which can differ from QuantizeLinear's x / s by one code at a tie.
  std::optional<std::string> weight_codes(const Dequantized& w) {
    const NodeProto* q = producer(w.codes);
    if (q && q->op_type() == "Clip") q = producer(q->input(0));
    if (!q || q->op_type() != "QuantizeLinear" || q->input(1) != w.scale || q->input(2) != w.zero_point)
      return std::nullopt;
    const TensorProto* wt = initializer(q->input(0));
    if (!wt || wt->data_type() != TensorProto::FLOAT) return std::nullopt;
    if (auto it = weight_codes_.find(w.codes); it != weight_codes_.end()) return it->second;
    const auto bounds = code_bounds(*q);
    if (!bounds) return std::nullopt;

    const TensorProto& zp_proto = *initializer(w.zero_point);
    const bool u8 = zp_proto.data_type() == TensorProto::UINT8;
    const auto [lo, hi] = *bounds;
    const at::Tensor weight = tensor_of(*wt);
    const at::Tensor scale = tensor_of(*initializer(w.scale)).reshape({-1});
    const at::Tensor zp = tensor_of(zp_proto).to(at::kLong).reshape({-1});
    const at::Tensor fq = fq_affine_forward(weight, scale, zp, lo, hi, w.axis);
    // fq = (code - z) * s exactly, so code = round(fq / s) + z recovers it.
    std::vector<int64_t> view(weight.dim(), 1);
    if (w.axis >= 0) view[w.axis] = -1;
    const at::Tensor codes =
        at::round(at::div(fq, scale.reshape(view))).to(at::kLong).add(zp.reshape(view)).to(u8 ? at::kByte : at::kChar);
    const std::string name = add_initializer(wt->name() + "_codes", codes);
    weight_codes_[w.codes] = name;
    return name;
  }

  std::string add_initializer(const std::string& hint, const at::Tensor& t) {
    std::string name = hint;
    for (int k = 1; initializers_.count(name) || producer_.count(name); ++k) name = hint + "_" + std::to_string(k);
    TensorProto* p = g_.add_initializer();
    p->set_name(name);
    set_tensor_data(*p, t);
    initializers_[name] = p;
    return name;
  }

  // Conv bias as int32 at the accumulator's scale s_x * s_w[c] (MQBench truncates; the
  // nearest integer halves the error).
  std::optional<std::string> bias_codes(const std::string& bias, const Dequantized& x, const Dequantized& w) {
    const TensorProto* b = initializer(bias);
    if (!b || b->data_type() != TensorProto::FLOAT) return std::nullopt;  // e.g. a quantized bias: keep Q/DQ
    const at::Tensor values = tensor_of(*b).to(at::kDouble).contiguous();
    const double sx = tensor_of(*initializer(x.scale)).item<float>();
    const at::Tensor sw = tensor_of(*initializer(w.scale)).to(at::kDouble).reshape({-1}).contiguous();
    at::Tensor out = at::empty({values.numel()}, at::TensorOptions().dtype(at::kInt));
    for (int64_t c = 0; c < values.numel(); ++c) {
      const double step = sx * sw.data_ptr<double>()[sw.numel() == 1 ? 0 : c];
      const double v = std::nearbyint(values.data_ptr<double>()[c] / step);
      if (!(std::abs(v) <= std::numeric_limits<int32_t>::max())) return std::nullopt;
      out.data_ptr<int32_t>()[c] = static_cast<int32_t>(v);
    }
    return add_initializer(bias + "_int32", out);
  }

  NodeProto& replace(int index, const std::string& type, const char* domain, const QuantizedBy& y) {
    NodeProto n;
    n.set_op_type(type);
    n.set_name(g_.node(index).name());
    if (*domain) n.set_domain(domain);
    dead_.insert(y.quantize_node);
    if (y.activation_node >= 0) dead_.insert(y.activation_node);
    return replacements_[index] = n;
  }

  static void add_inputs(NodeProto& n, const Dequantized& d) {
    n.add_input(d.codes);
    n.add_input(d.scale);
    n.add_input(d.zero_point);
  }
  static void add_output_grid(NodeProto& n, const QuantizedBy& y) {
    n.add_input(y.scale);
    n.add_input(y.zero_point);
  }

  void convert_conv(int i) {
    const NodeProto& conv = g_.node(i);
    auto x = dequantized(conv.input(0), false);
    auto w = conv.input_size() > 1 ? dequantized(conv.input(1), true) : std::nullopt;
    auto y = quantized_by(conv.output(0));
    if (!x || !w || !y || (w->axis != -1 && w->axis != 0)) return;
    // QLinearConv pairs uint8 activations with uint8 or int8 weights, int8 with int8.
    if (initializer(x->zero_point)->data_type() == TensorProto::INT8 &&
        initializer(w->zero_point)->data_type() != TensorProto::INT8)
      return;
    std::optional<std::string> bias;
    if (conv.input_size() > 2 && !conv.input(2).empty() && !(bias = bias_codes(conv.input(2), *x, *w))) return;
    auto codes = weight_codes(*w);
    if (!codes) return;
    NodeProto& n = replace(i, "QLinearConv", "", *y);
    *n.mutable_attribute() = conv.attribute();
    add_inputs(n, *x);
    n.add_input(*codes);
    n.add_input(w->scale);
    n.add_input(w->zero_point);
    add_output_grid(n, *y);
    if (bias) n.add_input(*bias);
    n.add_output(y->codes);
  }

  // Add of two per-tensor quantized activations: com.microsoft QLinearAdd.
  void convert_add(int i) {
    const NodeProto& op = g_.node(i);
    auto a = dequantized(op.input(0), false);
    auto b = dequantized(op.input(1), false);
    auto y = quantized_by(op.output(0));
    if (!a || !b || !y) return;
    NodeProto& n = replace(i, "QLinearAdd", kContribDomain, *y);
    add_inputs(n, *a);
    add_inputs(n, *b);
    add_output_grid(n, *y);
    n.add_output(y->codes);
  }

  void convert_pool(int i, const std::string& type) {
    const NodeProto& pool = g_.node(i);
    auto x = dequantized(pool.input(0), false);
    auto y = quantized_by(pool.output(0));
    if (!x || !y) return;
    NodeProto& n = replace(i, type, kContribDomain, *y);
    *n.mutable_attribute() = pool.attribute();
    auto* a = n.add_attribute();
    a->set_name("channels_last");
    a->set_type(::onnx::AttributeProto::INT);
    a->set_i(0);
    add_inputs(n, *x);
    add_output_grid(n, *y);
    n.add_output(y->codes);
  }

  // The new node list, then dead code (Q/DQ pairs nothing reads any more) and unread
  // initializers removed.
  void rebuild() {
    std::vector<NodeProto> nodes;
    for (int i = 0; i < g_.node_size(); ++i) {
      if (dead_.count(i)) continue;
      auto it = replacements_.find(i);
      nodes.push_back(it != replacements_.end() ? it->second : g_.node(i));
    }
    for (bool changed = true; changed;) {
      changed = false;
      std::set<std::string> read(graph_outputs_.begin(), graph_outputs_.end());
      for (const NodeProto& n : nodes)
        for (const auto& in : n.input()) read.insert(in);
      std::vector<NodeProto> live;
      for (NodeProto& n : nodes) {
        bool used = false;
        for (const auto& o : n.output()) used |= read.count(o) > 0;
        if (used) live.push_back(std::move(n));
        else changed = true;
      }
      nodes = std::move(live);
    }
    g_.clear_node();
    std::set<std::string> read;
    for (NodeProto& n : nodes) {
      for (const auto& in : n.input()) read.insert(in);
      *g_.add_node() = std::move(n);
    }
    auto* inits = g_.mutable_initializer();
    for (int k = inits->size() - 1; k >= 0; --k)
      if (!read.count(inits->Get(k).name())) inits->DeleteSubrange(k, 1);
    bool contrib = false;
    for (const NodeProto& n : g_.node()) contrib |= n.domain() == kContribDomain;
    if (contrib) {
      auto* op = model_.add_opset_import();
      op->set_domain(kContribDomain);
      op->set_version(1);
    }
  }

  ::onnx::ModelProto& model_;
  ::onnx::GraphProto& g_;
  std::unordered_map<std::string, int> producer_;
  std::unordered_map<std::string, std::vector<int>> readers_;
  std::unordered_map<std::string, const TensorProto*> initializers_;
  std::set<std::string> graph_outputs_;
  std::unordered_map<std::string, std::string> weight_codes_;
  std::map<int, NodeProto> replacements_;
  std::set<int> dead_;
};

}  // namespace

void rewrite_to_qlinear(::onnx::ModelProto& model) { Rewriter(model).run(); }

}  // namespace mqb
