// SiteRules applied to an inlined TorchScript graph (see site_pass.h and README.md).
#include "site_pass.h"

#include "module_path.h"

#include <torch/csrc/jit/ir/constants.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace mqb::prep {

using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;

namespace {

const std::unordered_map<std::string, std::string>& family_table() {
  static const std::unordered_map<std::string, std::string> t = {{"conv1d", "conv"},
                                                                 {"conv2d", "conv"},
                                                                 {"conv3d", "conv"},
                                                                 {"conv_transpose1d", "conv_transpose"},
                                                                 {"conv_transpose2d", "conv_transpose"},
                                                                 {"conv_transpose3d", "conv_transpose"},
                                                                 {"linear", "linear"},
                                                                 {"matmul", "matmul"},
                                                                 {"bmm", "matmul"},
                                                                 {"mm", "matmul"},
                                                                 {"add", "add"},
                                                                 {"mul", "mul"},
                                                                 {"div", "div"},
                                                                 {"cat", "concat"},
                                                                 {"concat", "concat"},
                                                                 {"max_pool1d", "max_pool"},
                                                                 {"max_pool2d", "max_pool"},
                                                                 {"max_pool3d", "max_pool"},
                                                                 {"adaptive_max_pool1d", "max_pool"},
                                                                 {"adaptive_max_pool2d", "max_pool"},
                                                                 {"avg_pool1d", "avg_pool"},
                                                                 {"avg_pool2d", "avg_pool"},
                                                                 {"avg_pool3d", "avg_pool"},
                                                                 {"adaptive_avg_pool1d", "avg_pool"},
                                                                 {"adaptive_avg_pool2d", "avg_pool"},
                                                                 {"adaptive_avg_pool3d", "avg_pool"},
                                                                 {"upsample_nearest1d", "upsample"},
                                                                 {"upsample_nearest2d", "upsample"},
                                                                 {"upsample_nearest3d", "upsample"},
                                                                 {"upsample_linear1d", "upsample"},
                                                                 {"upsample_bilinear2d", "upsample"},
                                                                 {"upsample_bicubic2d", "upsample"},
                                                                 {"upsample_trilinear3d", "upsample"},
                                                                 {"__interpolate", "upsample"},
                                                                 {"batch_norm", "batch_norm"},
                                                                 {"relu", "relu"},
                                                                 {"relu6", "relu6"},
                                                                 {"hardtanh", "relu6"},
                                                                 {"prelu", "prelu"},
                                                                 {"sigmoid", "sigmoid"},
                                                                 {"hardswish", "hardswish"},
                                                                 {"flatten", "flatten"},
                                                                 {"embedding", "embedding"},
                                                                 {"mean", "mean"},
                                                                 {"sum", "sum"},
                                                                 {"dropout", "dropout"},
                                                                 {"feature_dropout", "dropout"}};
  return t;
}

// aten ops that are known and deliberately never quantized (shape, control, math the
// rules do not cover); anything else is reported as left in float.
const std::unordered_set<std::string>& neutral_ops() {
  static const std::unordered_set<std::string> s = {"size",
                                                    "dim",
                                                    "len",
                                                    "Int",
                                                    "Float",
                                                    "Bool",
                                                    "ScalarImplicit",
                                                    "NumToTensor",
                                                    "view",
                                                    "reshape",
                                                    "transpose",
                                                    "permute",
                                                    "contiguous",
                                                    "squeeze",
                                                    "unsqueeze",
                                                    "expand",
                                                    "expand_as",
                                                    "chunk",
                                                    "split",
                                                    "slice",
                                                    "select",
                                                    "t",
                                                    "numel",
                                                    "gt",
                                                    "lt",
                                                    "ge",
                                                    "le",
                                                    "eq",
                                                    "ne",
                                                    "__is__",
                                                    "__isnot__",
                                                    "__not__",
                                                    "__and__",
                                                    "__or__",
                                                    "format",
                                                    "warn",
                                                    "append",
                                                    "__getitem__",
                                                    "list",
                                                    "floor_divide",
                                                    "floordiv",
                                                    "pow",
                                                    "sub",
                                                    "neg",
                                                    "softmax",
                                                    "log_softmax",
                                                    "layer_norm",
                                                    "group_norm",
                                                    "gelu",
                                                    "tanh",
                                                    "silu",
                                                    "leaky_relu",
                                                    "elu",
                                                    "exp",
                                                    "log",
                                                    "sqrt",
                                                    "rsqrt",
                                                    "detach",
                                                    "clone",
                                                    "to",
                                                    "zeros",
                                                    "ones",
                                                    "zeros_like",
                                                    "ones_like",
                                                    "empty",
                                                    "arange",
                                                    "full",
                                                    "tensor",
                                                    "type_as",
                                                    "masked_fill",
                                                    "where",
                                                    "clamp",
                                                    "clamp_min",
                                                    "clamp_max",
                                                    "max",
                                                    "min",
                                                    "argmax",
                                                    "abs",
                                                    "stack",
                                                    "pad",
                                                    "constant_pad_nd",
                                                    "reflection_pad2d",
                                                    "_set_item",
                                                    "__range_length",
                                                    "__derive_index",
                                                    "_pad_packed_sequence",
                                                    "floor",
                                                    "ceil",
                                                    "round",
                                                    "_assert",
                                                    "item",
                                                    "scaled_dot_product_attention",
                                                    "baddbmm",
                                                    "addmm",
                                                    "einsum",
                                                    "sort",
                                                    "topk",
                                                    "repeat",
                                                    "flip",
                                                    "roll",
                                                    "narrow",
                                                    "index_select",
                                                    "gather",
                                                    "scatter",
                                                    "unbind",
                                                    "mish",
                                                    "hardsigmoid",
                                                    "sin",
                                                    "cos",
                                                    "erf",
                                                    "remainder",
                                                    "fmod",
                                                    "pixel_shuffle",
                                                    "channel_shuffle",
                                                    "dict",
                                                    "keys",
                                                    "values",
                                                    "items",
                                                    "copy_",
                                                    "fill_",
                                                    "zero_",
                                                    "device",
                                                    "dtype",
                                                    "is_floating_point",
                                                    "manual_seed",
                                                    "any",
                                                    "all",
                                                    "isnan",
                                                    "isinf",
                                                    "new_zeros",
                                                    "new_ones",
                                                    "view_as",
                                                    "mT",
                                                    "_shape_as_tensor",
                                                    "_reshape_from_tensor",
                                                    "linalg_norm",
                                                    "norm",
                                                    "std",
                                                    "var",
                                                    "cumsum",
                                                    "__contains__",
                                                    "str",
                                                    "_unwrap_optional",
                                                    "adaptive_max_pool2d_with_indices",
                                                    "instance_norm"};
  return s;
}

std::string op_name(const Node* n) {
  if (!n->kind().is_aten()) return "";
  std::string op = n->kind().toUnqualString();
  if (op.size() > 2 && op.back() == '_' && op[op.size() - 2] != '_') op.pop_back();  // relu_ -> relu
  return op;
}

void walk(Block* b, const std::function<void(Node*)>& f) {
  for (Node* n : b->nodes()) {
    f(n);
    for (Block* sb : n->blocks()) walk(sb, f);
  }
}

bool is_float_tensor(const Value* v) {
  auto t = v->type()->cast<c10::TensorType>();
  if (!t) return false;
  auto st = t->scalarType();
  return !st || c10::isFloatingType(*st);
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Module path and innermost module type from Inline's call stack.
struct Scope {
  std::string path;
  std::string leaf_type;  // qualified class name of the innermost module
};

Scope scope_of(const Node* n) {
  Scope s;
  auto cs = n->callstack();
  if (!cs) return s;
  for (const auto& e : (*cs)->vec()) {
    const auto& mi = std::get<2>(e);
    if (!mi) continue;
    const std::string name = mi->instance_name();
    if (name.empty() || name == "SELF" || name == "INSTANCE_NAME_UNKNOWN") continue;
    s.path += (s.path.empty() ? "" : ".") + name;
    s.leaf_type = mi->class_type() ? mi->class_type()->name()->qualifiedName() : "";
  }
  return s;
}

bool is_torch_nn_leaf(const std::string& type) {
  if (type.find("torch.nn.modules.") == std::string::npos) return false;
  const std::string last = last_component(type);
  return last != "Sequential" && last != "ModuleList" && last != "ModuleDict";
}

class Planner {
 public:
  Planner(const std::shared_ptr<Graph>& g, const torch::jit::Module& m, const ResolvedConfig& c)
      : g_(g), module_(m), cfg_(c), rules_(c.site_rules) {}

  SitePlan run() {
    walk(g_->block(), [&](Node* n) { order_.push_back(n); });
    name_nodes();
    find_groups();
    collect_unsupported();
    collect_graph_outputs();
    for (Node* n : order_) {
      weight_rule(n);
      bias_rule(n);
      input_rule(n);
      output_rule(n);
    }
    network_output_rule();
    first_last_layer_rule();
    unsigned_rule();
    return std::move(plan_);
  }

 private:
  std::string family(Node* n) {
    auto it = family_cache_.find(n);
    if (it != family_cache_.end()) return it->second;
    return family_cache_[n] = op_family(n);
  }

  // ---- names --------------------------------------------------------------------
  std::optional<std::string> attr_path(Value* v) {
    std::vector<std::string> parts;
    while (v->node()->kind() == c10::prim::GetAttr) {
      parts.push_back(v->node()->s(c10::attr::name));
      v = v->node()->input(0);
    }
    if (v != g_->inputs().at(0) || parts.empty()) return std::nullopt;
    std::string out;
    for (auto it = parts.rbegin(); it != parts.rend(); ++it) out += (out.empty() ? "" : ".") + *it;
    return out;
  }

  bool is_weight_op(const std::string& fam) {
    return fam == "conv" || fam == "conv_transpose" || fam == "linear";
  }

  void name_nodes() {
    std::map<std::string, int> seen;
    for (Node* n : order_) {
      const std::string fam = family(n);
      const std::string op = op_name(n);
      if (n->kind() == c10::prim::CallMethod) {  // a leaf_module call: named by its module path
        name_leaf_call(n, seen);
        continue;
      }
      if (op.empty() && !(n->kind().is_prim() && n->kind() == c10::prim::If)) continue;
      std::string base;
      const Scope sc = scope_of(n);
      module_path_[n] = sc.path;
      leaf_type_[n] = sc.leaf_type;
      if (is_weight_op(fam) && n->inputs().size() > 1) {
        if (auto p = attr_path(n->input(1))) {
          const size_t dot = p->rfind('.');
          base = dot == std::string::npos ? *p : p->substr(0, dot);
          module_path_[n] = base;
        }
      }
      if (base.empty()) {
        if (!sc.path.empty() && !fam.empty() && is_torch_nn_leaf(sc.leaf_type))
          base = sc.path;
        else
          base = sc.path.empty() ? (op.empty() ? "if" : op) : sc.path + "." + (op.empty() ? "if" : op);
      }
      const int k = seen[base]++;
      names_[n] = k == 0 ? base : base + "_" + std::to_string(k);
    }
  }

  void name_leaf_call(Node* n, std::map<std::string, int>& seen) {
    auto cls = n->input(0)->type()->cast<c10::ClassType>();
    const auto path = attr_path(n->input(0));
    if (!cls || !path) return;
    module_path_[n] = *path;
    leaf_type_[n] = cls->name() ? cls->name()->qualifiedName() : "";
    const int k = seen[*path]++;
    names_[n] = k == 0 ? *path : *path + "_" + std::to_string(k);
  }

  std::string name_of(Node* n) {
    auto it = names_.find(n);
    return it == names_.end() ? std::string(n->kind().toUnqualString()) : it->second;
  }

  // ---- fusion groups: conv[+bn][+relu], linear[+bn][+relu] act as one op -------------
  Node* single_user(Value* v) {
    if (v->uses().size() != 1) return nullptr;
    return v->uses()[0].user;
  }

  void find_groups() {
    if (!rules_.fuse_conv_bn_relu) return;
    for (Node* n : order_) {
      const std::string fam = family(n);
      if (!is_weight_op(fam)) continue;
      Node* tail = n;
      Node* u = single_user(tail->output());
      if (u && family(u) == "batch_norm" && u->input(0) == tail->output()) {
        interior_.insert(u);
        tail = u;
        u = single_user(tail->output());
      }
      if (u && family(u) == "relu" && u->input(0) == tail->output()) {
        interior_.insert(u);
        tail = u;
      }
      tail_[n] = tail;
      head_of_tail_[tail] = n;
    }
  }

  // The op a value comes out of, seen through fusion (the group's head).
  Node* producer_op(Value* v) {
    Node* p = v->node();
    auto it = head_of_tail_.find(p);
    return it == head_of_tail_.end() ? p : it->second;
  }

  void collect_unsupported() {
    std::set<std::string> kinds;
    for (Node* n : order_) {
      const auto k = n->kind();
      if (k.is_prim() || k.is_attr() || k.is_onnx()) continue;
      if (k.is_aten()) {
        const std::string op = op_name(n);
        if (!family(n).empty() || op == "_convolution" || op == "convolution" || neutral_ops().count(op))
          continue;
      } else if (std::string(k.toQualString()) == kQuantizeOpName) {
        continue;
      }
      kinds.insert(k.toQualString());
    }
    plan_.unsupported_ops.assign(kinds.begin(), kinds.end());
  }
  static constexpr const char* kQuantizeOpName = "mqb::quantize";

  void collect_graph_outputs() {
    for (Value* v : g_->outputs()) {
      if (v->node()->kind() == c10::prim::TupleConstruct || v->node()->kind() == c10::prim::ListConstruct) {
        for (Value* x : v->node()->inputs()) graph_outputs_.push_back(x);
      } else {
        graph_outputs_.push_back(v);
      }
    }
  }

  bool feeds_graph_output(Value* v) {
    return std::find(graph_outputs_.begin(), graph_outputs_.end(), v) != graph_outputs_.end();
  }

  bool is_graph_input(Value* v) {
    const auto& in = g_->inputs();
    return std::find(in.begin() + 1, in.end(), v) != in.end();
  }

  // ---- extra_quantizer ----------------------------------------------------------
  bool module_excluded(Node* n) {
    const std::string& path = module_path_[n];
    if (path.empty()) return false;
    for (const auto& ex : cfg_.extra_quantizer.exclude_module_name)
      if (path == ex || path.rfind(ex + ".", 0) == 0) return true;
    return false;
  }

  bool function_matches(const std::vector<std::string>& list, Node* n) {
    const std::string fam = family(n), op = op_name(n);
    for (const auto& f : list) {
      const std::string last = last_component(f);
      if (last == fam || (!op.empty() && last == op)) return true;
    }
    return false;
  }

  bool excluded_consumer(Node* n) {
    const std::string& nm = name_of(n);
    if (contains(cfg_.extra_quantizer.additional_node_name, nm)) return false;
    return module_excluded(n) || function_matches(cfg_.extra_quantizer.exclude_function_type, n) ||
           contains(cfg_.extra_quantizer.exclude_node_name, nm);
  }

  bool selected_consumer(Node* n) {
    const auto& eq = cfg_.extra_quantizer;
    if (interior_.count(n)) return false;
    const std::string fam = family(n);
    bool sel = (!fam.empty() && contains(rules_.act_input_ops, fam)) ||
               function_matches(eq.additional_function_type, n) ||
               contains(eq.additional_node_name, name_of(n));
    if (!sel && !eq.additional_module_type.empty() && !leaf_type_[n].empty()) {
      const std::string lt = last_component(leaf_type_[n]);
      for (const auto& m : eq.additional_module_type) sel = sel || last_component(m) == lt;
    }
    return sel && !excluded_consumer(n);
  }

  std::vector<Value*> data_inputs(Node* n) {
    const std::string fam = family(n), op = op_name(n);
    if (fam == "concat") {
      Node* l = n->input(0)->node();
      if (l->kind() == c10::prim::ListConstruct) return {l->inputs().begin(), l->inputs().end()};
      return {};
    }
    if (n->inputs().empty()) return {};
    if (n->kind() == c10::prim::CallMethod) {  // leaf_module call: its tensor arguments
      std::vector<Value*> out;
      for (size_t i = 1; i < n->inputs().size(); ++i)
        if (is_float_tensor(n->input(i))) out.push_back(n->input(i));
      return out;
    }
    if (fam == "add" || fam == "mul" || fam == "div" || fam == "matmul" || op == "sub")
      return {n->input(0), n->input(1)};
    return {n->input(0)};
  }

  // ---- site bookkeeping ---------------------------------------------------------
  void add_site(Value* v, const std::string& name, SiteKind kind, const std::string& op,
                const std::string& reason, const QConfigSide& cfg) {
    if (site_of_.count(v)) return;
    PlannedSite s;
    s.value = v;
    s.info.name = unique_site_name(name);
    s.info.kind = kind;
    s.info.op = op;
    s.info.reason = reason;
    s.info.config = cfg;
    site_of_[v] = plan_.sites.size();
    plan_.sites.push_back(std::move(s));
  }

  std::string unique_site_name(const std::string& name) {
    std::string n = name;
    for (int k = 1; site_names_.count(n); ++k) n = name + "_" + std::to_string(k);
    site_names_.insert(n);
    return n;
  }

  // ---- the rules ----------------------------------------------------------------
  // A parameter read again (in another branch of a prim::If) joins the site of its
  // first read: one site per parameter.
  bool joined_parameter_site(Value* v, const std::string& path) {
    auto it = weight_site_.find(path);
    if (it == weight_site_.end()) return false;
    plan_.sites[it->second].more_values.push_back(v);
    site_of_[v] = it->second;
    return true;
  }

  void weight_rule(Node* n) {
    const std::string fam = family(n);
    if (!is_weight_op(fam) || !contains(rules_.weight_ops, fam) || n->inputs().size() < 2) return;
    if (module_excluded(n)) return;
    Value* w = n->input(1);
    if (w->node()->kind() != c10::prim::GetAttr || !is_float_tensor(w))
      return;  // functional weights stay float
    auto path = attr_path(w);
    if (site_of_.count(w) || (path && joined_parameter_site(w, *path))) return;
    if (path) weight_site_[*path] = plan_.sites.size();
    QConfigSide c = cfg_.qconfig.weight;
    if (c.qscheme.per_channel) c.qscheme.ch_axis = fam == "conv_transpose" ? 1 : 0;
    add_site(w, path ? *path : name_of(n) + ".weight", SiteKind::Weight, fam, "weight", c);
  }

  // Whether the module attribute at `path` ("layer1.0.conv1.bias") holds a tensor
  // (an Optional[Tensor] bias may be None).
  bool attribute_is_tensor(const std::string& path) {
    const size_t dot = path.rfind('.');
    const auto owner = submodule_at(module_, dot == std::string::npos ? "" : path.substr(0, dot));
    const std::string last = dot == std::string::npos ? path : path.substr(dot + 1);
    return owner && owner->hasattr(last) && owner->attr(last).isTensor() &&
           owner->attr(last).toTensor().is_floating_point();
  }

  // Vitis: the bias of a quantized weight op gets its own site (a parameter site).
  void bias_rule(Node* n) {
    if (!rules_.quantize_bias) return;
    const std::string fam = family(n);
    if (!is_weight_op(fam) || !contains(rules_.weight_ops, fam) || n->inputs().size() < 3) return;
    if (module_excluded(n) || !site_of_.count(n->input(1))) return;  // only where the weight is quantized
    Value* b = n->input(2);
    if (b->node()->kind() != c10::prim::GetAttr || site_of_.count(b)) return;
    auto path = attr_path(b);
    if (!path || !attribute_is_tensor(*path) || joined_parameter_site(b, *path)) return;
    weight_site_[*path] = plan_.sites.size();
    add_site(b, *path, SiteKind::Weight, fam, "bias", rules_.bias_quantizer);
  }

  bool merged(const std::string& consumer_fam, Value* v) {
    if (rules_.implicit_merges.empty()) return false;
    const std::string pf = family(producer_op(v));
    return !pf.empty() && contains(rules_.implicit_merges, consumer_fam + "<-" + pf);
  }

  bool feeds_weight_op(Value* v) {
    for (const auto& u : v->uses()) {
      const std::string f = family(u.user);
      if (is_weight_op(f) || f == "matmul") return true;
    }
    return false;
  }

  void input_rule(Node* n) {
    if (!selected_consumer(n)) return;
    const bool leaf_call = n->kind() == c10::prim::CallMethod;
    const std::string fam = !family(n).empty() ? family(n) : leaf_call ? last_component(leaf_type_[n]) : op_name(n);
    auto ins = data_inputs(n);
    if (rules_.skip_consumers_with_scalar_inputs)
      for (Value* v : ins)
        if (!v->type()->cast<c10::TensorType>()) return;
    for (size_t i = 0; i < ins.size(); ++i) {
      Value* v = ins[i];
      if (!is_float_tensor(v) || merged(fam, v)) continue;
      if (contains(rules_.pass_through_producers, family(v->node()))) continue;
      if (is_graph_input(v) && !rules_.quantize_network_input) continue;
      if (rules_.skip_producers_feeding_output && feeds_graph_output(v)) continue;
      if (!rules_.reuse_quantizer_ops.empty() && contains(rules_.reuse_quantizer_ops, family(v->node())) &&
          feeds_weight_op(v))
        continue;
      const std::string nm = name_of(n) + (i == 0 ? ".input" : ".input" + std::to_string(i));
      add_site(v, nm, SiteKind::Activation, fam, is_graph_input(v) ? "network_input" : "input",
               cfg_.qconfig.activation);
    }
  }

  void output_rule(Node* n) {
    if (rules_.act_output_ops.empty() || interior_.count(n)) return;
    const std::string fam = family(n);
    if (fam.empty() || !contains(rules_.act_output_ops, fam) || excluded_consumer(n)) return;
    Node* tail = tail_.count(n) ? tail_[n] : n;
    if (tail->outputs().size() != 1) return;
    Value* v = tail->output();
    if (!is_float_tensor(v)) return;
    for (const auto& u : v->uses()) {
      Node* user = u.user;
      const std::string uf = family(user);
      if (!uf.empty() && contains(rules_.output_pass_through_ops, uf) && user->outputs().size() == 1 &&
          is_float_tensor(user->output())) {
        add_site(user->output(), name_of(user) + ".output", SiteKind::Activation, uf, "output",
                 cfg_.qconfig.activation);
      } else if (!uf.empty() && contains(rules_.implicit_merges, uf + "<-" + fam)) {
        continue;
      } else {
        add_site(v, name_of(n) + ".output", SiteKind::Activation, fam, "output", cfg_.qconfig.activation);
      }
    }
  }

  void network_output_rule() {
    if (!rules_.quantize_network_output) return;
    for (Value* v : graph_outputs_) {
      if (!is_float_tensor(v) || is_graph_input(v) || v->node()->kind() == c10::prim::GetAttr) continue;
      Node* p = producer_op(v);
      add_site(v, name_of(p) + ".output", SiteKind::Activation, family(p), "network_output",
               cfg_.qconfig.activation);
    }
  }

  static void force_8bit(QScheme& q) {
    q.bit = 8;
    q.symmetric_range = false;
    q.quant_min_override.reset();
    q.quant_max_override.reset();
  }

  void first_last_layer_rule() {
    if (!rules_.first_last_layer_8bit) return;
    std::vector<Node*> io;
    for (Node* n : order_) {
      if (!is_weight_op(family(n))) continue;
      bool first = false, last = false;
      for (Value* v : data_inputs(n)) first = first || is_graph_input(v);
      for (Value* o : n->outputs()) last = last || feeds_graph_output(o);
      if (first || last) io.push_back(n);
    }
    for (Node* n : io) {
      auto w = site_of_.find(n->input(1));
      if (w != site_of_.end()) force_8bit(plan_.sites[w->second].info.config.qscheme);
      for (Value* v : data_inputs(n)) {
        if (!is_float_tensor(v)) continue;
        if (!site_of_.count(v))
          add_site(v, name_of(n) + ".input", SiteKind::Activation, family(n),
                   is_graph_input(v) ? "network_input" : "input", cfg_.qconfig.activation);
        force_8bit(plan_.sites[site_of_[v]].info.config.qscheme);
      }
    }
  }

  bool is_unsigned(Value* v, int depth) {
    if (depth > 32 || is_graph_input(v)) return false;
    Node* p = v->node();
    if (p->kind() == c10::prim::If) {  // e.g. scripted F.interpolate: unsigned if every branch is
      const size_t k = v->offset();
      bool any = false;
      for (Block* b : p->blocks()) {
        Value* out = b->outputs().at(k);
        if (out->node()->kind() == c10::prim::Uninitialized) continue;  // a branch that raises
        if (!is_float_tensor(out) || !is_unsigned(out, depth + 1)) return false;
        any = true;
      }
      return any;
    }
    const std::string f = family(p);
    if (f == "relu") return true;
    if (f == "relu6" && op_name(p) == "relu6") return true;
    if (f == "relu6") {  // hardtanh(x, 0, 6)
      auto lo = torch::jit::toIValue(p->input(1));
      return lo && lo->isDouble() && lo->toDouble() >= 0;
    }
    static const std::set<std::string> through = {"max_pool", "avg_pool", "upsample", "flatten",
                                                  "concat",   "add",      "mean",     "sum"};
    if (!through.count(f)) return false;
    auto ins = data_inputs(p);
    if (ins.empty()) return false;
    for (Value* x : ins)
      if (!is_float_tensor(x) || !is_unsigned(x, depth + 1)) return false;
    return true;
  }

  void unsigned_rule() {
    if (!rules_.unsigned_after_relu) return;
    for (auto& s : plan_.sites) {
      QScheme& q = s.info.config.qscheme;
      if (s.info.kind != SiteKind::Activation || !q.symmetric || !is_unsigned(s.value, 0)) continue;
      q.quant_min_override = 0;
      q.quant_max_override = (int64_t{1} << q.bit) - 1;
    }
  }

  std::shared_ptr<Graph> g_;
  const torch::jit::Module& module_;
  const ResolvedConfig& cfg_;
  const SiteRules& rules_;
  SitePlan plan_;
  std::vector<Node*> order_;
  std::unordered_map<Node*, std::string> names_, module_path_, leaf_type_, family_cache_;
  std::unordered_set<Node*> interior_;
  std::unordered_map<Node*, Node*> tail_, head_of_tail_;
  std::vector<Value*> graph_outputs_;
  std::unordered_map<Value*, size_t> site_of_;
  std::map<std::string, size_t> weight_site_;
  std::set<std::string> site_names_;
};

}  // namespace

std::string op_family(const Node* n) {
  const std::string op = op_name(n);
  if (op.empty()) return "";
  if (op == "_convolution" || op == "convolution") {
    auto transposed = torch::jit::toIValue(n->input(6));
    return transposed && transposed->isBool() && transposed->toBool() ? "conv_transpose" : "conv";
  }
  auto it = family_table().find(op);
  return it == family_table().end() ? "" : it->second;
}

std::string module_path_of(const Node* n) { return scope_of(n).path; }

SitePlan plan_sites(const std::shared_ptr<Graph>& graph, const torch::jit::Module& module,
                    const ResolvedConfig& config) {
  return Planner(graph, module, config).run();
}

}  // namespace mqb::prep
