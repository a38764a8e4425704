// ONNX export of a PreparedModel (see mqb/host/onnx_export.h): a walk over the inlined
// TorchScript forward that emits one ONNX node (or a few) per aten op. Values are
// tracked as ONNX tensor names, as constants (IValues: lists, scalars, modules) or as
// parameters (initializers named by their attribute path).
#define ONNX_NAMESPACE onnx
#define ONNX_ML 1
#include "mqb/host/onnx_export.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/clamp.h>
#include <ATen/ops/maximum.h>
#include <ATen/ops/minimum.h>
#include <ATen/ops/round.h>
#include <ATen/ops/zeros.h>
#include <ATen/core/stack.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>
#include <torch/csrc/jit/ir/ir.h>

#include <cmath>
#include <map>
#include <set>
#include <unordered_map>

#include "../prepare/prepared_impl.h"
#include "../prepare/site_pass.h"
#include "float_graph.h"
#include "mqb/host/tensor_io.h"
#include "onnx_tensor.h"
#include "qlinear_pass.h"

namespace mqb {

namespace {

using torch::jit::Node;
using torch::jit::Value;

std::string where(const Node* n) {
  std::string path = prep::module_path_of(n);
  std::string s = path.empty() ? std::string("the top-level forward") : "module '" + path + "'";
  const auto& r = n->sourceRange();
  if (r.source()) {
    s += ", source line " + std::to_string(r.source()->lineno_for_offset(r.start()) + 1);
  }
  return s;
}

[[noreturn]] void unsupported(const Node* n, const std::string& why = "") {
  throw ModelError(std::string("ONNX export: op ") + n->kind().toQualString() + " in " + where(n) +
                   (why.empty() ? " is not supported" : ": " + why) +
                   "; supported: conv, conv_transpose, linear, matmul, relu, hardtanh/relu6/clamp, add, sub, mul, div, "
                   "cat, max_pool, avg_pool, adaptive_avg_pool to 1x1, flatten, view/reshape, upsample/interpolate, "
                   "batch_norm, softmax, log_softmax, sigmoid, tanh, mean, dropout (eval)");
}

// Quantized-tensor element type for a grid: uint8 when it fits [0, 255], int8 when it
// fits [-128, 127]; anything wider has no opset-13 QDQ form (see emit_float_fake_quant).
bool fits_uint8(const DeploySite& s) { return s.quant_min >= 0 && s.quant_max <= 255; }
bool fits_int8(const DeploySite& s) { return s.quant_min >= -128 && s.quant_max <= 127; }

class Exporter {
 public:
  Exporter(const PreparedModel& model, const OnnxExportOptions& opt)
      : model_(model), impl_(const_cast<PreparedModel&>(model).impl()), opt_(opt) {
    for (size_t i = 0; i < impl_.ids.size(); ++i) id_to_index_[impl_.ids[i]] = i;
    for (const DeploySite& s : deploy_sites(model)) sites_[s.name] = s;
  }

  // Names of the sites the walk met: a site in a branch not taken on the example input
  // (scripted F.interpolate has one per input rank) is not among them.
  const std::set<std::string>& reached_sites() const { return reached_; }

  ::onnx::ModelProto run() {
    auto graph = impl_.module.get_method("forward").graph();
    ::onnx::ModelProto m;
    m.set_ir_version(::onnx::IR_VERSION);
    m.set_producer_name("mqbench-cpp");
    auto* op = m.add_opset_import();
    op->set_domain("");
    op->set_version(13);
    g_ = m.mutable_graph();
    g_->set_name(opt_.graph_name);

    // Activation sites name the tensor they quantize (DeploySite::tensor), also inside
    // the branches scripted code emits in place (F.interpolate's upsample in a prim::If).
    name_site_tensors(graph->block(), c10::Symbol::fromQualString(prep::kQuantizeOp));

    // Inputs: self (the module object), then the data tensors.
    const auto inputs = graph->inputs();
    if (inputs.size() < 2) throw ModelError("ONNX export: the forward takes no tensor input");
    if (inputs.size() > 2) throw ModelError("ONNX export: only single-input models are supported (forward takes " +
                                            std::to_string(inputs.size() - 1) + " inputs)");
    consts_[inputs[0]] = c10::IValue(impl_.module._ivalue());
    paths_[inputs[0]] = "";
    const std::string in_name = name_of(inputs[1], "input");
    add_value_info(g_->add_input(), in_name, opt_.input_shape, true);
    std::vector<int64_t> one = opt_.input_shape;
    one[0] = 1;
    examples_[inputs[1]] = at::zeros(one, at::kFloat);

    for (Node* n : graph->nodes()) emit_checked(n);

    const auto outputs = graph->outputs();
    if (outputs.size() != 1 || !tensors_.count(outputs[0]))
      throw ModelError("ONNX export: the forward must return one tensor");
    std::string out = tensors_.at(outputs[0]);
    if (out == in_name || is_initializer(out)) out = identity(out);
    auto* vo = g_->add_output();
    vo->set_name(out);
    vo->mutable_type()->mutable_tensor_type()->set_elem_type(::onnx::TensorProto::FLOAT);
    return m;
  }

 private:
  // ---- names, constants, initializers ----------------------------------------------
  std::string fresh(const std::string& hint) {
    std::string base = hint.empty() ? "t" : hint;
    std::string s = base;
    for (int k = 1; used_names_.count(s); ++k) s = base + "_" + std::to_string(k);
    used_names_.insert(s);
    return s;
  }
  std::string name_of(Value* v, const std::string& hint = "") {
    auto it = site_tensor_name_.find(v);
    std::string n = it != site_tensor_name_.end() ? it->second : (hint.empty() ? v->debugName() : hint);
    n = fresh(n);
    tensors_[v] = n;
    return n;
  }
  bool is_initializer(const std::string& name) const { return initializers_.count(name) > 0; }
  void name_site_tensors(torch::jit::Block* b, c10::Symbol qsym) {
    for (Node* n : b->nodes()) {
      if (n->kind() == qsym) site_tensor_name_[n->input(0)] = site_of(n).name;
      for (torch::jit::Block* inner : n->blocks()) name_site_tensors(inner, qsym);
    }
  }

  static void add_value_info(::onnx::ValueInfoProto* vi, const std::string& name, const std::vector<int64_t>& shape,
                             bool symbolic_batch) {
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(::onnx::TensorProto::FLOAT);
    auto* sh = tt->mutable_shape();
    for (size_t i = 0; i < shape.size(); ++i) {
      auto* d = sh->add_dim();
      if (i == 0 && symbolic_batch) d->set_dim_param("N");
      else d->set_dim_value(shape[i]);
    }
  }

  // Tensors of a type ONNX initializers do not hold here (double, bool, ...) are stored as float.
  std::string add_initializer(const std::string& hint, const at::Tensor& t_in) {
    at::Tensor t = t_in.detach();
    if (!onnx_element_type(t.scalar_type())) t = t.to(at::kFloat);
    ::onnx::TensorProto* tp = g_->add_initializer();
    const std::string name = fresh(hint);
    tp->set_name(name);
    set_tensor_data(*tp, t);
    initializers_.insert(name);
    return name;
  }
  std::string const_floats(const std::string& hint, const std::vector<float>& v, bool scalar) {
    at::Tensor t = at::empty({static_cast<int64_t>(v.size())}, at::kFloat);
    std::copy(v.begin(), v.end(), t.data_ptr<float>());
    return add_initializer(hint, scalar ? t.reshape({}) : t);
  }
  static at::Tensor int_tensor(const std::vector<int64_t>& v) {
    at::Tensor t = at::empty({static_cast<int64_t>(v.size())}, at::kLong);
    std::copy(v.begin(), v.end(), t.data_ptr<int64_t>());
    return t;
  }
  std::string const_ints(const std::string& hint, const std::vector<int64_t>& v) {
    return add_initializer(hint, int_tensor(v));
  }

  // The ONNX tensor of a value: a tensor already emitted, a parameter (initializer by
  // attribute path, created once) or a constant tensor/scalar.
  std::string tensor(Value* v, const Node* user) {
    if (auto it = tensors_.find(v); it != tensors_.end()) return it->second;
    if (auto it = params_.find(v); it != params_.end()) {
      auto [pit, fresh_param] = param_names_.try_emplace(it->second.first, "");
      if (fresh_param) pit->second = add_initializer(it->second.first, it->second.second);
      tensors_[v] = pit->second;
      return pit->second;
    }
    if (auto c = constant(v)) {
      if (c->isTensor()) return tensors_[v] = add_initializer("const", c->toTensor().to(at::kFloat));
      if (c->isDouble() || c->isInt()) return tensors_[v] = const_floats("const", {static_cast<float>(c->toScalar().toDouble())}, true);
    }
    unsupported(user, "input '" + v->debugName() + "' is neither a tensor computed in the graph nor a constant");
  }

  bool is_none(Value* v) const {
    auto c = constant(v);
    return v->type()->cast<c10::NoneType>() || (c && c->isNone());
  }
  std::optional<c10::IValue> constant(Value* v) const {
    if (auto it = consts_.find(v); it != consts_.end()) return it->second;
    return std::nullopt;
  }
  c10::IValue need_const(Value* v, const Node* n, const char* what) const {
    auto c = constant(v);
    if (!c) unsupported(n, std::string("its ") + what + " is not a constant");
    return *c;
  }
  std::vector<int64_t> ints(Value* v, const Node* n, const char* what) const {
    c10::IValue c = need_const(v, n, what);
    if (c.isInt()) return {c.toInt()};
    return c.toIntVector();
  }
  int64_t int1(Value* v, const Node* n, const char* what) const { return need_const(v, n, what).toInt(); }
  double real(Value* v, const Node* n, const char* what) const { return need_const(v, n, what).toScalar().toDouble(); }

  // ---- node emission -----------------------------------------------------------------
  ::onnx::NodeProto* node(const std::string& type, const std::vector<std::string>& ins, const std::string& out) {
    ::onnx::NodeProto* p = g_->add_node();
    p->set_op_type(type);
    p->set_name(fresh(type + "_" + out));
    for (const auto& i : ins) p->add_input(i);
    p->add_output(out);
    return p;
  }
  static void attr(::onnx::NodeProto* p, const std::string& name, int64_t v) {
    auto* a = p->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr(::onnx::NodeProto* p, const std::string& name, float v) {
    auto* a = p->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::FLOAT);
    a->set_f(v);
  }
  static void attr(::onnx::NodeProto* p, const std::string& name, const std::string& v) {
    auto* a = p->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  static void attr(::onnx::NodeProto* p, const std::string& name, const std::vector<int64_t>& v) {
    auto* a = p->add_attribute();
    a->set_name(name);
    a->set_type(::onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
  }
  std::string identity(const std::string& in) {
    const std::string out = fresh(in + "_out");
    node("Identity", {in}, out);
    return out;
  }
  // One ONNX node of `type` on the node's tensor inputs `idx`, output = node output 0.
  ::onnx::NodeProto* simple(Node* n, const std::string& type, const std::vector<size_t>& idx) {
    std::vector<std::string> ins;
    for (size_t i : idx) ins.push_back(tensor(n->input(i), n));
    return node(type, ins, name_of(n->output()));
  }
  void alias(Node* n, Value* from) { tensors_[n->output()] = tensor(from, n); }

  static std::vector<int64_t> spatial(std::vector<int64_t> v, size_t dims) {
    if (v.size() == 1 && dims > 1) v.assign(dims, v[0]);
    return v;
  }
  static std::vector<int64_t> pads(const std::vector<int64_t>& p) {
    std::vector<int64_t> out(p);
    out.insert(out.end(), p.begin(), p.end());
    return out;
  }

  void emit_conv(Node* n, bool transposed, const std::vector<int64_t>& stride, const std::vector<int64_t>& padding,
                 const std::vector<int64_t>& dilation, const std::vector<int64_t>& output_padding, int64_t groups) {
    std::vector<std::string> ins{tensor(n->input(0), n), tensor(n->input(1), n)};
    if (!is_none(n->input(2))) ins.push_back(tensor(n->input(2), n));
    const size_t dims = stride.size();
    ::onnx::NodeProto* p = node(transposed ? "ConvTranspose" : "Conv", ins, name_of(n->output()));
    attr(p, "strides", stride);
    attr(p, "pads", pads(spatial(padding, dims)));
    attr(p, "dilations", spatial(dilation, dims));
    attr(p, "group", groups);
    if (transposed && !output_padding.empty()) attr(p, "output_padding", spatial(output_padding, dims));
  }

  void emit_pool(Node* n, bool max) {
    const auto kernel = ints(n->input(1), n, "kernel size");
    auto stride = ints(n->input(2), n, "stride");
    if (stride.empty()) stride = kernel;
    const size_t dims = kernel.size();
    ::onnx::NodeProto* p = simple(n, max ? "MaxPool" : "AveragePool", {0});
    attr(p, "kernel_shape", kernel);
    attr(p, "strides", spatial(stride, dims));
    attr(p, "pads", pads(spatial(ints(n->input(3), n, "padding"), dims)));
    if (max) {
      attr(p, "dilations", spatial(ints(n->input(4), n, "dilation"), dims));
      attr(p, "ceil_mode", static_cast<int64_t>(need_const(n->input(5), n, "ceil_mode").toBool()));
    } else {
      attr(p, "ceil_mode", static_cast<int64_t>(need_const(n->input(4), n, "ceil_mode").toBool()));
      attr(p, "count_include_pad", static_cast<int64_t>(need_const(n->input(5), n, "count_include_pad").toBool()));
      if (n->inputs().size() > 6 && !need_const(n->input(6), n, "divisor_override").isNone())
        unsupported(n, "divisor_override has no ONNX form");
    }
  }

  void emit_binary(Node* n, const std::string& type) {
    if ((type == "Add" || type == "Sub") && n->inputs().size() > 2 && real(n->input(2), n, "alpha") != 1.0)
      unsupported(n, "alpha != 1");
    simple(n, type, {0, 1});
  }

  // Shape lists for view/reshape: constants, or x.size(i) at position i (ONNX's 0 = keep).
  std::vector<int64_t> shape_list(Value* v, Node* n) {
    Node* list = v->node();
    if (list->kind() != c10::prim::ListConstruct) {
      if (auto c = constant(v)) return c->toIntVector();
    }
    if (list->kind() != c10::prim::ListConstruct) unsupported(n, "shape is not a list");
    std::vector<int64_t> out;
    for (size_t i = 0; i < list->inputs().size(); ++i) {
      Value* e = list->input(i);
      if (auto c = constant(e); c && !size_dims_.count(e)) {
        out.push_back(c->toInt());
        continue;
      }
      auto it = size_dims_.find(e);
      if (it == size_dims_.end() || it->second != static_cast<int64_t>(i))
        unsupported(n, "shape entry " + std::to_string(i) + " is computed in a way ONNX Reshape cannot copy");
      out.push_back(0);
    }
    return out;
  }

  void emit_upsample(Node* n) {
    const std::string kind = n->kind().toUnqualString();
    const bool nearest = kind.find("nearest") != std::string::npos;
    if (!nearest && kind.find("bilinear") == std::string::npos) unsupported(n, "only nearest and bilinear upsampling");
    // upsample_*2d.vec(input, output_size?, [align_corners,] scale_factors?)
    if (n->inputs().size() < 3) unsupported(n);
    Value* scales_v = n->inputs().back();
    c10::IValue scales = need_const(scales_v, n, "scale factors");
    if (scales.isNone() || !constant(n->input(1)) || !constant(n->input(1))->isNone())
      unsupported(n, "give scale factors, not an output size");
    std::vector<float> sc{1.f, 1.f};
    for (double s : scales.toDoubleVector()) sc.push_back(static_cast<float>(s));
    const std::string roi = const_floats("roi", {}, false);
    const std::string sv = const_floats("scales", sc, false);
    ::onnx::NodeProto* p = node("Resize", {tensor(n->input(0), n), roi, sv}, name_of(n->output()));
    attr(p, "mode", std::string(nearest ? "nearest" : "linear"));
    if (nearest) {
      attr(p, "coordinate_transformation_mode", std::string("asymmetric"));
      attr(p, "nearest_mode", std::string("floor"));
    } else {
      const bool align = need_const(n->input(2), n, "align_corners").toBool();
      attr(p, "coordinate_transformation_mode", std::string(align ? "align_corners" : "pytorch_half_pixel"));
    }
  }

  const SiteInfo& site_of(Node* n) {
    auto c = torch::jit::toIValue(n->input(1));
    if (!c || !c->isInt() || !id_to_index_.count(c->toInt()))
      throw ModelError("ONNX export: a quantization site without a known id");
    return impl_.sites[id_to_index_.at(c->toInt())];
  }

  void emit_site(Node* n) {
    const SiteInfo& info = site_of(n);
    reached_.insert(info.name);
    Value* x = n->input(0);
    auto it = sites_.find(info.name);
    if (it == sites_.end() || opt_.form == OnnxForm::Float) {  // disabled site or no fake quant
      if (it != sites_.end() && params_.count(x)) clip_weight(x, it->second);
      alias(n, x);
      return;
    }
    const DeploySite& s = it->second;
    if (s.log_domain)
      throw ModelError("ONNX export: site '" + s.name +
                       "' quantizes in NNIE's log domain, which QuantizeLinear cannot express (NNIE deploys the float "
                       "model with data_max per layer)");
    const std::string xin = tensor(x, n);
    if (!fits_uint8(s) && !fits_int8(s)) return emit_float_fake_quant(n, s, xin);
    const bool u8 = fits_uint8(s);
    at::Tensor zp = int_tensor(s.zero_point).to(u8 ? at::kByte : at::kChar);
    std::vector<float> scale(s.scale.begin(), s.scale.end());
    const bool pc = s.per_channel();
    const std::string sname = pc ? const_floats(s.name + ".scale", scale, false)
                                 : const_floats(s.name + ".scale", scale, true);
    const std::string zname = add_initializer(s.name + ".zero_point", pc ? zp : zp.reshape({}));
    std::string q = fresh(s.name + "_quantized");
    ::onnx::NodeProto* qn = node("QuantizeLinear", {xin, sname, zname}, q);
    if (pc) attr(qn, "axis", static_cast<int64_t>(s.axis));
    // A grid narrower than the element type (e.g. [-127, 127], 4-bit [-8, 7]) saturates
    // at its own bounds, as the simulation's clamp does: Clip on the integer codes.
    const auto [tmin, tmax] = code_type_range(u8 ? ::onnx::TensorProto::UINT8 : ::onnx::TensorProto::INT8);
    if (s.quant_min != tmin || s.quant_max != tmax) {
      at::Tensor lo = int_tensor({s.quant_min}).to(u8 ? at::kByte : at::kChar).reshape({});
      at::Tensor hi = int_tensor({s.quant_max}).to(u8 ? at::kByte : at::kChar).reshape({});
      const std::string clipped = fresh(s.name + "_clipped");
      node("Clip", {q, add_initializer(s.name + ".quant_min", lo), add_initializer(s.name + ".quant_max", hi)},
           clipped);
      q = clipped;
    }
    ::onnx::NodeProto* dq = node("DequantizeLinear", {q, sname, zname}, name_of(n->output(), s.name + "_dequantized"));
    if (pc) attr(dq, "axis", static_cast<int64_t>(s.axis));
  }

  // Grids wider than 8 bits (PPLW8A16's 16-bit activations) in float arithmetic, as
  // ATen's fake quant computes them: y = (clamp(round(x * (1/s)) + z, qmin, qmax) - z) * s,
  // Round being half-to-even like nearbyint. Per tensor only.
  void emit_float_fake_quant(Node* n, const DeploySite& s, const std::string& xin) {
    if (s.per_channel())
      unsupported(n, "site '" + s.name + "' is a per-channel grid wider than 8 bits, which has no opset-13 form here");
    const float scale = static_cast<float>(s.scale.at(0));
    const float zp = static_cast<float>(s.zero_point.at(0));
    const std::string inv = const_floats(s.name + ".inv_scale", {1.0f / scale}, true);
    const std::string sc = const_floats(s.name + ".scale", {scale}, true);
    const std::string z = const_floats(s.name + ".zero_point", {zp}, true);
    const std::string lo = const_floats(s.name + ".quant_min", {static_cast<float>(s.quant_min)}, true);
    const std::string hi = const_floats(s.name + ".quant_max", {static_cast<float>(s.quant_max)}, true);
    const std::string scaled = fresh(s.name + "_scaled"), rounded = fresh(s.name + "_rounded"),
                      shifted = fresh(s.name + "_shifted"), codes = fresh(s.name + "_codes"),
                      centred = fresh(s.name + "_centred");
    node("Mul", {xin, inv}, scaled);
    node("Round", {scaled}, rounded);
    node("Add", {rounded, z}, shifted);
    node("Clip", {shifted, lo, hi}, codes);
    node("Sub", {codes, z}, centred);
    node("Mul", {centred, sc}, name_of(n->output(), s.name + "_dequantized"));
  }

  // Float form: a weight is clipped to the range its grid covers (per channel), as
  // MQBench's deploy does, so the float model never sees values the codes cannot hold.
  void clip_weight(Value* w, const DeploySite& s) {
    auto& param = params_.at(w);
    at::NoGradGuard ng;
    at::Tensor t = param.second.detach().to(at::kFloat);
    if (s.log_domain) {
      param.second = at::clamp(t, -s.data_max, s.data_max);
      return;
    }
    std::vector<int64_t> shape(t.dim(), 1);
    at::Tensor lo = at::empty({static_cast<int64_t>(s.scale.size())}, at::kFloat);
    at::Tensor hi = at::empty({static_cast<int64_t>(s.scale.size())}, at::kFloat);
    for (size_t c = 0; c < s.scale.size(); ++c) {
      lo.data_ptr<float>()[c] = static_cast<float>(s.range_min(c));
      hi.data_ptr<float>()[c] = static_cast<float>(s.range_max(c));
    }
    if (s.per_channel()) shape[s.axis] = -1;
    param.second = at::minimum(at::maximum(t, lo.reshape(shape)), hi.reshape(shape));
  }

  // The example value of v (batch 1): shapes and data-independent control flow
  // (scripted modules' dim checks, F.interpolate's branches) resolve on it.
  c10::IValue example(Value* v, const Node* user) {
    if (auto it = examples_.find(v); it != examples_.end()) return it->second;
    if (auto it = consts_.find(v); it != consts_.end()) return it->second;
    if (auto it = params_.find(v); it != params_.end()) return it->second.second;
    unsupported(user, "input '" + v->debugName() + "' has no value to evaluate");
  }

  // Runs n's own operator on the example values; non-tensor results become constants.
  void evaluate(Node* n) {
    torch::jit::Stack stack;
    for (Value* v : n->inputs()) stack.push_back(example(v, n));
    try {
      n->getOperation()(stack);
    } catch (const std::exception& e) {
      unsupported(n, std::string("evaluating it on an example input failed: ") + e.what());
    }
    for (size_t i = 0; i < n->outputs().size(); ++i) {
      Value* o = n->output(i);
      examples_[o] = stack.at(i);
      if (!o->type()->cast<c10::TensorType>() && !stack.at(i).isTensorList() && !stack.at(i).isTensor())
        consts_[o] = stack.at(i);
    }
  }

  // Lists are built here: the JIT's ListConstruct operation needs a schema that empty
  // lists lack.
  void evaluate_list(Node* n) {
    const auto elem = n->output()->type()->castRaw<c10::ListType>()->getElementType();
    if (elem->kind() == c10::TypeKind::TensorType) {
      c10::List<at::Tensor> list;
      for (Value* v : n->inputs()) list.push_back(example(v, n).toTensor());
      examples_[n->output()] = c10::IValue(list);
      return;
    }
    c10::impl::GenericList list(elem);
    for (Value* v : n->inputs()) list.push_back(example(v, n));
    examples_[n->output()] = c10::IValue(list);
    consts_[n->output()] = examples_[n->output()];
  }

  static bool has_tensor_output(const Node* n) {
    for (const Value* v : n->outputs())
      if (v->type()->cast<c10::TensorType>()) return true;
    return false;
  }

  // Copies everything known about `from` to `to` (block outputs -> prim::If outputs).
  void alias_value(Value* to, Value* from) {
    if (auto it = tensors_.find(from); it != tensors_.end()) tensors_[to] = it->second;
    if (auto it = consts_.find(from); it != consts_.end()) consts_[to] = it->second;
    if (auto it = examples_.find(from); it != examples_.end()) examples_[to] = it->second;
    if (auto it = params_.find(from); it != params_.end()) params_[to] = it->second;
    if (auto it = size_dims_.find(from); it != size_dims_.end()) size_dims_[to] = it->second;
  }

  static bool raises(torch::jit::Block* b) {
    for (Node* n : b->nodes())
      if (n->kind() == c10::prim::RaiseException) return true;
    return false;
  }

  // prim::If: a condition known on the example input selects its block, which is
  // emitted in place (scripted modules test `self.training`, input ranks, ...). An
  // unknown condition is accepted only for checks that raise and return nothing.
  void emit_if(Node* n) {
    auto cond = constant(n->input(0));
    if (!cond || !cond->isBool()) {
      if (n->outputs().empty() && (raises(n->blocks()[0]) || raises(n->blocks()[1]))) return;
      unsupported(n, "a data-dependent branch has no ONNX form here");
    }
    torch::jit::Block* b = n->blocks()[cond->toBool() ? 0 : 1];
    for (Node* inner : b->nodes()) emit(inner);
    for (size_t i = 0; i < n->outputs().size(); ++i) alias_value(n->output(i), b->outputs()[i]);
  }

  // prim::Loop with a trip count and condition known on the example input (scripted
  // F.interpolate computes its output size in one) is unrolled.
  void emit_loop(Node* n) {
    auto trips = constant(n->input(0));
    auto cond = constant(n->input(1));
    if (!trips || !trips->isInt() || !cond || !cond->isBool())
      unsupported(n, "a loop whose trip count depends on data has no ONNX form here");
    torch::jit::Block* body = n->blocks()[0];
    const size_t carried = n->inputs().size() - 2;
    std::vector<Value*> state(n->inputs().begin() + 2, n->inputs().end());
    bool go = cond->toBool();
    for (int64_t i = 0; go && i < trips->toInt(); ++i) {
      consts_[body->inputs()[0]] = c10::IValue(i);
      examples_[body->inputs()[0]] = c10::IValue(i);
      for (size_t j = 0; j < carried; ++j) alias_value(body->inputs()[j + 1], state[j]);
      for (Node* inner : body->nodes()) emit(inner);
      auto c = constant(body->outputs()[0]);
      if (!c || !c->isBool()) unsupported(n, "a loop whose condition depends on data has no ONNX form here");
      go = c->toBool();
      for (size_t j = 0; j < carried; ++j) state[j] = body->outputs()[j + 1];
    }
    for (size_t j = 0; j < carried; ++j) alias_value(n->output(j), state[j]);
  }

  // Library errors (c10, std) while emitting a node become ModelErrors naming the node.
  void emit_checked(Node* n) {
    try {
      emit(n);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      unsupported(n, std::string("exporting it failed: ") + e.what());
    }
  }

  void emit(Node* n) {
    using namespace c10;
    const Symbol k = n->kind();
    if (k == prim::If) return emit_if(n);
    if (k == prim::Loop) return emit_loop(n);
    if (!n->blocks().empty()) unsupported(n, "blocks of this op have no ONNX form here");
    if (k == prim::Constant) {
      consts_[n->output()] = *torch::jit::toIValue(n->output());
      return;
    }
    if (k == prim::unchecked_cast) {  // Optional[Tensor] -> Tensor after a None check
      alias_value(n->output(), n->input(0));
      return;
    }
    if (k == prim::Uninitialized) {  // placeholder of values assigned only in raising branches
      consts_[n->output()] = c10::IValue();
      return;
    }
    if (k == prim::GetAttr) {
      Value* obj = n->input(0);
      auto c = constant(obj);
      if (!c || !c->isObject()) unsupported(n, "attribute of a non-module value");
      c10::IValue attrv = c->toObject()->getAttr(n->s(attr::name));
      const std::string path = paths_[obj].empty() ? n->s(attr::name) : paths_[obj] + "." + n->s(attr::name);
      if (attrv.isTensor()) {
        params_[n->output()] = {path, attrv.toTensor()};
      } else {
        consts_[n->output()] = attrv;
        paths_[n->output()] = path;
      }
      return;
    }
    if (n->kind().toQualString() == std::string(prep::kQuantizeOp)) {
      examples_[n->output()] = example(n->input(0), n);  // same shape; values unused
      return emit_site(n);
    }
    if (k == aten::size && n->inputs().size() == 2) size_dims_[n->output()] = int1(n->input(1), n, "dimension");
    if ((k == aten::Int || k == prim::NumToTensor) && size_dims_.count(n->input(0)))
      size_dims_[n->output()] = size_dims_.at(n->input(0));
    if (k == prim::ListConstruct) return evaluate_list(n);
    if (!has_tensor_output(n) || k == prim::NumToTensor) return evaluate(n);
    emit_tensor_op(n);
    evaluate(n);
  }

  void emit_tensor_op(Node* n) {
    using namespace c10;
    const Symbol k = n->kind();
    const std::string op = k.toQualString();
    if (k == aten::conv1d || k == aten::conv2d || k == aten::conv3d) {
      if (constant(n->input(4)) && constant(n->input(4))->isString()) unsupported(n, "string padding");
      return emit_conv(n, false, ints(n->input(3), n, "stride"), ints(n->input(4), n, "padding"),
                       ints(n->input(5), n, "dilation"), {}, int1(n->input(6), n, "groups"));
    }
    if (k == aten::conv_transpose1d || k == aten::conv_transpose2d || k == aten::conv_transpose3d)
      return emit_conv(n, true, ints(n->input(3), n, "stride"), ints(n->input(4), n, "padding"),
                       ints(n->input(7), n, "dilation"), ints(n->input(5), n, "output_padding"),
                       int1(n->input(6), n, "groups"));
    if (k == aten::_convolution || k == aten::convolution) {
      const bool tr = need_const(n->input(6), n, "transposed").toBool();
      return emit_conv(n, tr, ints(n->input(3), n, "stride"), ints(n->input(4), n, "padding"),
                       ints(n->input(5), n, "dilation"), tr ? ints(n->input(7), n, "output_padding") : std::vector<int64_t>{},
                       int1(n->input(8), n, "groups"));
    }
    if (k == aten::linear) {
      std::vector<std::string> ins{tensor(n->input(0), n), tensor(n->input(1), n)};
      if (!is_none(n->input(2))) ins.push_back(tensor(n->input(2), n));
      attr(node("Gemm", ins, name_of(n->output())), "transB", int64_t{1});
      return;
    }
    if (k == aten::matmul || k == aten::mm || k == aten::bmm) return void(simple(n, "MatMul", {0, 1}));
    if (k == aten::relu || k == aten::relu_) return void(simple(n, "Relu", {0}));
    if (k == aten::sigmoid) return void(simple(n, "Sigmoid", {0}));
    if (k == aten::tanh) return void(simple(n, "Tanh", {0}));
    if (k == aten::hardtanh || k == aten::clamp || k == aten::relu6) {
      float lo = 0, hi = 6;
      if (k != aten::relu6) {
        auto a = need_const(n->input(1), n, "min"), b = need_const(n->input(2), n, "max");
        lo = a.isNone() ? -INFINITY : static_cast<float>(a.toScalar().toDouble());
        hi = b.isNone() ? INFINITY : static_cast<float>(b.toScalar().toDouble());
      }
      node("Clip", {tensor(n->input(0), n), const_floats("clip_min", {lo}, true), const_floats("clip_max", {hi}, true)},
           name_of(n->output()));
      return;
    }
    if (k == aten::add) return emit_binary(n, "Add");
    if (k == aten::sub) return emit_binary(n, "Sub");
    if (k == aten::mul) return emit_binary(n, "Mul");
    if (k == aten::div) {
      if (n->inputs().size() > 2) unsupported(n, "rounding_mode");
      return emit_binary(n, "Div");
    }
    if (k == aten::cat) {
      Node* list = n->input(0)->node();
      if (list->kind() != prim::ListConstruct) unsupported(n, "its tensor list is not built in the graph");
      std::vector<std::string> ins;
      for (Value* v : list->inputs()) ins.push_back(tensor(v, n));
      attr(node("Concat", ins, name_of(n->output())), "axis", int1(n->input(1), n, "dim"));
      return;
    }
    if (k == aten::max_pool1d || k == aten::max_pool2d || k == aten::max_pool3d) return emit_pool(n, true);
    if (k == aten::avg_pool1d || k == aten::avg_pool2d || k == aten::avg_pool3d) return emit_pool(n, false);
    if (k == aten::adaptive_avg_pool1d || k == aten::adaptive_avg_pool2d || k == aten::adaptive_avg_pool3d) {
      for (int64_t s : ints(n->input(1), n, "output size"))
        if (s != 1) unsupported(n, "adaptive pooling to a size other than 1 has no ONNX form");
      return void(simple(n, "GlobalAveragePool", {0}));
    }
    if (k == aten::flatten) {
      const int64_t start = int1(n->input(1), n, "start_dim"), end = int1(n->input(2), n, "end_dim");
      if (start != 1 || end != -1) unsupported(n, "only flatten(x, 1, -1) maps to ONNX Flatten");
      attr(simple(n, "Flatten", {0}), "axis", int64_t{1});
      return;
    }
    if (k == aten::view || k == aten::reshape) {
      const std::string shape = const_ints("shape", shape_list(n->input(1), n));
      node("Reshape", {tensor(n->input(0), n), shape}, name_of(n->output()));
      return;
    }
    if (op.rfind("aten::upsample_", 0) == 0) return emit_upsample(n);
    if (k == aten::batch_norm) {
      if (need_const(n->input(5), n, "training").toBool()) unsupported(n, "batch_norm in training mode");
      ::onnx::NodeProto* p = node("BatchNormalization",
                                {tensor(n->input(0), n), tensor(n->input(1), n), tensor(n->input(2), n),
                                 tensor(n->input(3), n), tensor(n->input(4), n)},
                                name_of(n->output()));
      attr(p, "epsilon", static_cast<float>(real(n->input(7), n, "eps")));
      return;
    }
    if (k == aten::softmax || k == aten::log_softmax) {
      if (n->inputs().size() > 2 && !need_const(n->input(2), n, "dtype").isNone()) unsupported(n, "dtype argument");
      attr(simple(n, k == aten::softmax ? "Softmax" : "LogSoftmax", {0}), "axis", int1(n->input(1), n, "dim"));
      return;
    }
    if (k == aten::mean) {
      if (n->inputs().size() < 3 || (n->inputs().size() > 3 && !need_const(n->input(3), n, "dtype").isNone()))
        unsupported(n, "mean over every dimension or with a dtype");
      ::onnx::NodeProto* p = simple(n, "ReduceMean", {0});
      attr(p, "axes", ints(n->input(1), n, "dims"));
      attr(p, "keepdims", static_cast<int64_t>(need_const(n->input(2), n, "keepdim").toBool()));
      return;
    }
    if (k == aten::dropout || k == aten::feature_dropout || k == aten::contiguous || k == aten::detach) {
      if ((k == aten::dropout || k == aten::feature_dropout) && need_const(n->input(2), n, "train").toBool())
        unsupported(n, "dropout in training mode");
      return alias(n, n->input(0));
    }
    if (k == prim::TupleConstruct || k == prim::TupleUnpack || k == prim::ListUnpack) unsupported(n, "tuples and lists of tensors as values");
    unsupported(n);
  }

  const PreparedModel& model_;
  PreparedModel::Impl& impl_;
  OnnxExportOptions opt_;
  ::onnx::GraphProto* g_ = nullptr;
  std::map<int64_t, size_t> id_to_index_;
  std::map<std::string, DeploySite> sites_;
  std::unordered_map<Value*, std::string> tensors_, paths_, site_tensor_name_;
  std::unordered_map<Value*, c10::IValue> consts_, examples_;
  std::unordered_map<Value*, std::pair<std::string, at::Tensor>> params_;
  std::unordered_map<Value*, int64_t> size_dims_;
  std::map<std::string, std::string> param_names_;
  std::set<std::string> used_names_, initializers_, reached_;
};

}  // namespace

std::vector<DeploySite> deploy_sites(const PreparedModel& model) {
  auto& impl = const_cast<PreparedModel&>(model).impl();
  std::vector<DeploySite> out;
  at::NoGradGuard ng;
  for (size_t i = 0; i < impl.sites.size(); ++i) {
    const SiteInfo& info = impl.sites[i];
    FakeQuantize& fq = *impl.states[i]->fq;
    if (!fq.fake_quant_enabled() || fq.deploy_form() == DeployForm::Identity) continue;
    const QScheme& qs = fq.qscheme();
    DeploySite s;
    s.name = info.name;
    s.tensor = info.name;
    s.is_weight = info.kind == SiteKind::Weight;
    s.op = info.op;
    s.quant_min = qs.quant_min();
    s.quant_max = qs.quant_max();
    s.bit = qs.bit;
    s.axis = qs.per_channel ? qs.ch_axis : -1;
    s.symmetric = qs.symmetric;
    s.pot_scale = qs.pot_scale;
    if (fq.deploy_form() == DeployForm::NNIELog) {  // NNIE: data_max only
      const StateDict st = fq.state();
      auto dm = st.find("data_max");
      if (dm == st.end()) throw ModelError("site '" + info.name + "': a log-domain quantizer without data_max");
      s.log_domain = true;
      s.axis = -1;
      s.data_max = static_cast<double>(dm->second.to(at::kFloat).item<float>());
      out.push_back(std::move(s));
      continue;
    }
    const QParams q = fq.qparams();
    // The deployed TorchScript's exact values: float32 scales, rounded clamped zero points.
    const at::Tensor sc = q.scale.detach().to(at::kFloat).flatten().to(at::kDouble).contiguous();
    const at::Tensor zp =
        at::clamp(at::round(q.zero_point.detach().to(at::kDouble).flatten()), s.quant_min, s.quant_max).contiguous();
    for (int64_t c = 0; c < sc.numel(); ++c) {
      s.scale.push_back(sc.data_ptr<double>()[c]);
      s.zero_point.push_back(static_cast<int64_t>(zp.data_ptr<double>()[c]));
    }
    if (!s.per_channel() && s.scale.size() != 1)
      throw ModelError("site '" + s.name + "': per-tensor scheme with " + std::to_string(s.scale.size()) + " scales");
    out.push_back(std::move(s));
  }
  return out;
}

void export_onnx(const PreparedModel& model, const std::filesystem::path& file, const OnnxExportOptions& options) {
  if (options.input_shape.empty()) throw ModelError("ONNX export: the input shape is empty (give an example batch)");
  Exporter ex(model, options);
  ::onnx::ModelProto m = ex.run();
  const auto failed = [&](const std::exception& e) {
    return ModelError(file.string() + ": the exported ONNX model fails the ONNX checker / shape inference: " + e.what());
  };
  try {
    // The output's shape comes from shape inference (the checker wants it declared),
    // run on the QDQ graph: it cannot see through the QLinear form's com.microsoft ops.
    ::onnx::shape_inference::InferShapes(m, ::onnx::OpSchemaRegistry::Instance(),
                                         ::onnx::ShapeInferenceOptions(true, 1));
    for (auto& out : *m.mutable_graph()->mutable_output())
      for (const auto& vi : m.graph().value_info())
        if (vi.name() == out.name()) *out.mutable_type() = vi.type();
    m.mutable_graph()->clear_value_info();
  } catch (const std::exception& e) {
    throw failed(e);
  }
  if (options.form == OnnxForm::QLinear) rewrite_to_qlinear(m);
  try {
    ::onnx::checker::check_model(m);
    ::onnx::shape_inference::InferShapes(m, ::onnx::OpSchemaRegistry::Instance(), ::onnx::ShapeInferenceOptions(true, 1));
  } catch (const std::exception& e) {
    throw failed(e);
  }
  std::string bytes;
  if (!m.SerializeToString(&bytes)) throw DataError(file.string() + ": cannot serialise the ONNX model");
  write_text_file(file, bytes);
}

::onnx::ModelProto float_onnx_model(const PreparedModel& model, const OnnxExportOptions& options,
                                    std::set<std::string>* reached_sites) {
  if (options.input_shape.empty()) throw ModelError("ONNX export: the input shape is empty (give an example batch)");
  OnnxExportOptions o = options;
  o.form = OnnxForm::Float;
  Exporter ex(model, o);
  ::onnx::ModelProto m = ex.run();
  if (reached_sites) *reached_sites = ex.reached_sites();
  return m;
}

}  // namespace mqb
