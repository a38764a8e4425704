// PreparedModel: running, mode switches, reports, save/load and deploy (see
// mqb/host/prepared_model.h).
#include "mqb/host/prepared_model.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/clamp.h>
#include <ATen/ops/round.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "mqb/host/registry.h"
#include "prepared_impl.h"

namespace mqb {

namespace {

constexpr const char* kFormat = "mqbench-cpp prepared model v1";

void walk(torch::jit::Block* b, const std::function<void(torch::jit::Node*)>& f) {
  for (torch::jit::Node* n : b->nodes()) {
    f(n);
    for (torch::jit::Block* sb : n->blocks()) walk(sb, f);
  }
}

std::vector<torch::jit::Node*> quantize_nodes(const std::shared_ptr<torch::jit::Graph>& g) {
  const c10::Symbol op = c10::Symbol::fromQualString(prep::kQuantizeOp);
  std::vector<torch::jit::Node*> out;
  walk(g->block(), [&](torch::jit::Node* n) {
    if (n->kind() == op) out.push_back(n);
  });
  return out;
}

int64_t site_id_of(torch::jit::Node* n) {
  auto c = torch::jit::toIValue(n->input(1));
  if (!c || !c->isInt()) throw ModelError("mqb::quantize call without a constant site id");
  return c->toInt();
}

// ---- site description as text (for save/load) -----------------------------------
std::string encode_value(const ParamValue& v) {
  if (std::holds_alternative<bool>(v)) return std::string("b") + (std::get<bool>(v) ? "1" : "0");
  if (std::holds_alternative<int64_t>(v)) return "i" + std::to_string(std::get<int64_t>(v));
  if (std::holds_alternative<double>(v)) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%a", std::get<double>(v));
    return std::string("d") + buf;
  }
  return "s" + std::get<std::string>(v);
}

ParamValue decode_value(const std::string& s) {
  if (s.empty()) throw DataError("prepared model: empty parameter value");
  const std::string body = s.substr(1);
  switch (s[0]) {
    case 'b':
      return body == "1";
    case 'i':
      return static_cast<int64_t>(std::stoll(body));
    case 'd':
      return std::strtod(body.c_str(), nullptr);
    case 's':
      return body;
    default:
      throw DataError("prepared model: bad parameter value '" + s + "'");
  }
}

std::string encode_site(const SiteInfo& s) {
  std::ostringstream o;
  const QScheme& q = s.config.qscheme;
  o << "name=" << s.name << "\nkind=" << to_string(s.kind) << "\nop=" << s.op << "\nreason=" << s.reason
    << "\nobserver=" << s.config.observer << "\nfake_quantize=" << s.config.fake_quantize
    << "\nqscheme=" << q.bit << "," << q.symmetric << "," << q.per_channel << "," << q.pot_scale << ","
    << q.symmetric_range << "," << q.ch_axis << ","
    << (q.quant_min_override ? std::to_string(*q.quant_min_override) : "x") << ","
    << (q.quant_max_override ? std::to_string(*q.quant_max_override) : "x");
  for (const auto& k : s.config.observer_args.keys())
    o << "\noarg." << k << "=" << encode_value(s.config.observer_args.value(k));
  for (const auto& k : s.config.fakeq_params.keys())
    o << "\nfparam." << k << "=" << encode_value(s.config.fakeq_params.value(k));
  return o.str();
}

SiteInfo decode_site(const std::string& text) {
  SiteInfo s;
  s.config.observer_args = Params("observer args");
  s.config.fakeq_params = Params("fake quantizer params");
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) throw DataError("prepared model: bad site line '" + line + "'");
    const std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "name")
      s.name = v;
    else if (k == "kind")
      s.kind = v == "weight" ? SiteKind::Weight : SiteKind::Activation;
    else if (k == "op")
      s.op = v;
    else if (k == "reason")
      s.reason = v;
    else if (k == "observer")
      s.config.observer = v;
    else if (k == "fake_quantize")
      s.config.fake_quantize = v;
    else if (k == "qscheme") {
      std::vector<std::string> f;
      std::stringstream ss(v);
      for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
      if (f.size() != 8) throw DataError("prepared model: bad qscheme '" + v + "'");
      QScheme& q = s.config.qscheme;
      q.bit = std::stoi(f[0]);
      q.symmetric = f[1] == "1";
      q.per_channel = f[2] == "1";
      q.pot_scale = f[3] == "1";
      q.symmetric_range = f[4] == "1";
      q.ch_axis = std::stoi(f[5]);
      if (f[6] != "x") q.quant_min_override = std::stoll(f[6]);
      if (f[7] != "x") q.quant_max_override = std::stoll(f[7]);
    } else if (k.rfind("oarg.", 0) == 0) {
      s.config.observer_args.set(k.substr(5), decode_value(v));
    } else if (k.rfind("fparam.", 0) == 0) {
      s.config.fakeq_params.set(k.substr(7), decode_value(v));
    } else {
      throw DataError("prepared model: unknown site field '" + k + "'");
    }
  }
  return s;
}

struct SavedFlags {
  std::vector<std::pair<bool, bool>> flags;
};

SavedFlags save_flags(const PreparedModel::Impl& impl) {
  SavedFlags f;
  for (const auto& s : impl.states)
    f.flags.emplace_back(s->fq->observer_enabled(), s->fq->fake_quant_enabled());
  return f;
}

void restore_flags(PreparedModel::Impl& impl, const SavedFlags& f) {
  for (size_t i = 0; i < impl.states.size(); ++i) {
    impl.states[i]->fq->set_observer_enabled(f.flags[i].first);
    impl.states[i]->fq->set_fake_quant_enabled(f.flags[i].second);
    impl.states[i]->invalidate();
  }
}

at::Tensor run_forward(torch::jit::Module& m, const std::vector<at::Tensor>& inputs) {
  std::vector<c10::IValue> args(inputs.begin(), inputs.end());
  c10::IValue out = m.forward(args);
  if (out.isTensor()) return out.toTensor();
  if (out.isTuple())
    for (const auto& e : out.toTupleRef().elements())
      if (e.isTensor()) return e.toTensor();
  throw ModelError("the model's forward returned " + out.tagKind() + ", not a tensor");
}

}  // namespace

const char* to_string(SiteKind kind) { return kind == SiteKind::Weight ? "weight" : "activation"; }

size_t PreparedModel::Impl::find(const std::string& site) const {
  auto it = index.find(site);
  if (it != index.end()) return it->second;
  std::vector<std::string> names;
  for (const auto& s : sites) names.push_back(s.name);
  std::string msg = "unknown quantization site '" + site + "'";
  auto close = closest_names(site, names);
  if (!close.empty()) {
    msg += "; did you mean:";
    for (size_t i = 0; i < close.size() && i < 3; ++i) msg += " " + close[i];
  }
  throw ConfigError(msg + " (" + std::to_string(sites.size()) + " sites; list them with site_names())");
}

void PreparedModel::Impl::renumber_graph(const std::map<int64_t, size_t>& old_to_index) {
  auto graph = module.get_method("forward").graph();
  for (torch::jit::Node* n : quantize_nodes(graph)) {
    const int64_t old = site_id_of(n);
    auto it = old_to_index.find(old);
    if (it == old_to_index.end())
      throw DataError("prepared model: graph uses site " + std::to_string(old) +
                      " that the file does not describe");
    torch::jit::WithInsertPoint guard(n);
    n->replaceInput(1, graph->insertConstant(ids[it->second]));
  }
  torch::jit::EliminateDeadCode(graph);
}

PreparedModel::PreparedModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PreparedModel::PreparedModel(PreparedModel&&) noexcept = default;
PreparedModel& PreparedModel::operator=(PreparedModel&&) noexcept = default;
PreparedModel::~PreparedModel() = default;

at::Tensor PreparedModel::forward(const std::vector<at::Tensor>& inputs) {
  return run_forward(impl_->module, inputs);
}

at::Tensor PreparedModel::float_forward(const std::vector<at::Tensor>& inputs) {
  const SavedFlags f = save_flags(*impl_);
  for (auto& s : impl_->states) s->fq->set_mode(QuantMode::Disabled);
  at::Tensor out;
  try {
    out = run_forward(impl_->module, inputs);
  } catch (...) {
    restore_flags(*impl_, f);
    throw;
  }
  restore_flags(*impl_, f);
  return out;
}

void PreparedModel::set_mode(QuantMode mode) {
  for (auto& s : impl_->states) {
    s->fq->set_mode(mode);
    s->invalidate();
  }
}

void PreparedModel::set_site_mode(const std::string& site, QuantMode mode) {
  auto& s = impl_->states[impl_->find(site)];
  s->fq->set_mode(mode);
  s->invalidate();
}

void PreparedModel::set_training(bool training) {
  impl_->module.train(training);
  for (auto& s : impl_->states) {
    s->fq->set_training(training);
    s->invalidate();
  }
}

NamedTensors PreparedModel::parameters() {
  NamedTensors out;
  for (const auto& p : impl_->module.named_parameters(/*recurse=*/true)) {
    at::Tensor t = p.value;
    if (!t.requires_grad()) t.set_requires_grad(true);
    out.emplace_back("model." + p.name, t);
  }
  for (size_t i = 0; i < impl_->sites.size(); ++i)
    for (const auto& p : impl_->states[i]->fq->parameters())
      out.emplace_back("site." + impl_->sites[i].name + "." + p.first, p.second);
  for (auto& s : impl_->states) s->invalidate();
  return out;
}

const std::vector<SiteInfo>& PreparedModel::sites() const { return impl_->sites; }

std::vector<std::string> PreparedModel::site_names() const {
  std::vector<std::string> out;
  for (const auto& s : impl_->sites) out.push_back(s.name);
  return out;
}

FakeQuantize& PreparedModel::quantizer(const std::string& site) {
  const size_t i = impl_->find(site);
  impl_->states[i]->invalidate();  // the caller may change it
  return *impl_->states[i]->fq;
}

const std::string& PreparedModel::backend() const { return impl_->backend; }

QParams PreparedModel::qparams(const std::string& site) const {
  return impl_->states[impl_->find(site)]->fq->qparams();
}

int64_t PreparedModel::weight_cache_hits() const {
  int64_t n = 0;
  for (const auto& s : impl_->states) n += s->cache_hits;
  return n;
}

const std::vector<std::string>& PreparedModel::unsupported_ops() const { return impl_->unsupported; }

std::vector<SiteError> PreparedModel::error_report(const std::vector<std::vector<at::Tensor>>& batches) {
  const SavedFlags f = save_flags(*impl_);
  for (auto& s : impl_->states) {
    s->fq->set_mode(QuantMode::Quantize);
    s->invalidate();
    s->collect = true;
    s->signal = s->noise = 0;
    s->elements = 0;
  }
  auto finish = [&] {
    for (auto& s : impl_->states) s->collect = false;
    restore_flags(*impl_, f);
  };
  try {
    at::NoGradGuard no_grad;
    for (const auto& b : batches) run_forward(impl_->module, b);
  } catch (...) {
    finish();
    throw;
  }
  std::vector<SiteError> out;
  for (size_t i = 0; i < impl_->sites.size(); ++i) {
    const auto& s = *impl_->states[i];
    SiteError e;
    e.name = impl_->sites[i].name;
    e.signal = s.signal;
    e.noise = s.noise;
    e.elements = s.elements;
    e.sqnr_db = s.noise > 0 ? 10.0 * std::log10(s.signal / s.noise) : std::numeric_limits<double>::infinity();
    out.push_back(e);
  }
  finish();
  return out;
}

void PreparedModel::save(const std::filesystem::path& file) const {
  std::ostringstream os;
  impl_->module.save(os);
  const std::string bytes = os.str();
  at::Tensor blob = at::empty({static_cast<int64_t>(bytes.size())}, at::kByte);
  std::memcpy(blob.data_ptr(), bytes.data(), bytes.size());

  c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
  d.insert("format", c10::IValue(std::string(kFormat)));
  d.insert("backend", c10::IValue(impl_->backend));
  d.insert("module", c10::IValue(blob));
  c10::List<std::string> sites;
  c10::List<int64_t> ids;
  c10::Dict<std::string, at::Tensor> state;
  for (size_t i = 0; i < impl_->sites.size(); ++i) {
    sites.push_back(encode_site(impl_->sites[i]));
    ids.push_back(impl_->ids[i]);
    for (const auto& kv : impl_->states[i]->fq->state())
      state.insert(std::to_string(i) + "/" + kv.first, kv.second.detach());
  }
  d.insert("sites", c10::IValue(sites));
  d.insert("site_ids", c10::IValue(ids));
  d.insert("state", c10::IValue(state));
  c10::List<std::string> unsupported;
  for (const auto& u : impl_->unsupported) unsupported.push_back(u);
  d.insert("unsupported_ops", c10::IValue(unsupported));
  const std::vector<char> data = torch::jit::pickle_save(c10::IValue(d));
  const std::filesystem::path tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw DataError(file.string() + ": cannot write the prepared model");
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) throw DataError(file.string() + ": write failed");
  }
  std::filesystem::rename(tmp, file);
}

PreparedModel PreparedModel::load(const std::filesystem::path& file, Registry& registry) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ModelError(file.string() + ": cannot open the prepared model");
  std::vector<char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  c10::IValue v;
  try {
    v = torch::jit::pickle_load(data);
  } catch (const std::exception& e) {
    throw ModelError(file.string() + ": not a prepared model written by PreparedModel::save");
  }
  if (!v.isGenericDict()) throw ModelError(file.string() + ": not a prepared model (no dictionary inside)");
  auto d = v.toGenericDict();
  auto get = [&](const char* key) {
    auto it = d.find(c10::IValue(std::string(key)));
    if (it == d.end()) throw ModelError(file.string() + ": prepared model without '" + key + "'");
    return it->value();
  };
  if (!get("format").isString() || get("format").toStringRef() != kFormat)
    throw ModelError(file.string() + ": unknown prepared model format (expected '" + kFormat + "')");
  auto impl = std::make_unique<Impl>();
  impl->backend = get("backend").toStringRef();
  const at::Tensor blob = get("module").toTensor().contiguous();
  impl->module = prep::load_torchscript_bytes(
      std::string(static_cast<const char*>(blob.data_ptr()), static_cast<size_t>(blob.numel())),
      file.string());
  for (const auto& s : get("sites").toListRef()) impl->sites.push_back(decode_site(s.toStringRef()));
  for (const auto& u : get("unsupported_ops").toListRef()) impl->unsupported.push_back(u.toStringRef());
  std::map<int64_t, size_t> old_to_index;
  {
    const auto& old_ids = get("site_ids").toListRef();
    for (size_t i = 0; i < old_ids.size(); ++i) old_to_index[old_ids[i].toInt()] = i;
  }
  prep::register_sites(*impl, registry);
  std::vector<StateDict> states(impl->sites.size());
  for (const auto& kv : get("state").toGenericDict()) {
    const std::string& key = kv.key().toStringRef();
    const size_t slash = key.find('/');
    const size_t i = std::stoul(key.substr(0, slash));
    if (i >= states.size()) throw DataError(file.string() + ": state for an unknown site '" + key + "'");
    states[i][key.substr(slash + 1)] = kv.value().toTensor();
  }
  for (size_t i = 0; i < states.size(); ++i) impl->states[i]->fq->load_state(states[i]);
  impl->renumber_graph(old_to_index);
  return PreparedModel(std::move(impl));
}

void PreparedModel::deploy(const std::filesystem::path& file) const {
  std::ostringstream os;
  impl_->module.save(os);
  torch::jit::Module d = prep::load_torchscript_bytes(os.str(), "deploy copy");
  auto graph = d.get_method("forward").graph();
  std::map<int64_t, size_t> by_id;
  for (size_t i = 0; i < impl_->ids.size(); ++i) by_id[impl_->ids[i]] = i;
  const c10::Symbol per_tensor = c10::Symbol::fromQualString("aten::fake_quantize_per_tensor_affine");
  const c10::Symbol per_channel = c10::Symbol::fromQualString("aten::fake_quantize_per_channel_affine");
  for (torch::jit::Node* n : quantize_nodes(graph)) {
    const size_t i = by_id.at(site_id_of(n));
    FakeQuantize& fq = *impl_->states[i]->fq;
    torch::jit::Value* x = n->input(0);
    torch::jit::Value* y = x;
    if (fq.fake_quant_enabled()) {
      if (fq.deploy_form() == DeployForm::NNIELog)
        throw ModelError("site '" + impl_->sites[i].name + "': " + impl_->sites[i].config.fake_quantize +
                         " quantizes in the log domain, which aten fake-quant ops cannot express");
      if (fq.deploy_form() == DeployForm::NonUniform)
        throw ModelError("site '" + impl_->sites[i].name + "': " + impl_->sites[i].config.fake_quantize +
                         " quantizes to non-uniform levels, which aten fake-quant ops cannot express");
      const QScheme& qs = fq.qscheme();
      const int64_t qmin = qs.quant_min(), qmax = qs.quant_max();
      const QParams q = fq.qparams();
      at::NoGradGuard no_grad;
      const at::Tensor scale = q.scale.detach().to(at::kFloat).flatten().contiguous();
      const at::Tensor zp = at::clamp(at::round(q.zero_point.detach().to(at::kDouble).flatten()), qmin, qmax);
      torch::jit::WithInsertPoint guard(n);
      if (qs.per_channel) {
        const std::string base = "_mqb_site" + std::to_string(i);
        d.register_buffer(base + "_scale", scale.clone());
        d.register_buffer(base + "_zero_point", zp.to(at::kInt).contiguous());
        torch::jit::Value* self = graph->inputs().at(0);
        torch::jit::Value* sv = graph->insertGetAttr(self, base + "_scale");
        torch::jit::Value* zv = graph->insertGetAttr(self, base + "_zero_point");
        y = graph->insert(per_channel, {x, sv, zv, qs.ch_axis, qmin, qmax});
      } else {
        y = graph->insert(per_tensor, {x, static_cast<double>(scale[0].item<float>()),
                                       static_cast<int64_t>(zp[0].item<double>()), qmin, qmax});
      }
    }
    n->output()->replaceAllUsesWith(y);
    n->destroy();
  }
  torch::jit::EliminateDeadCode(graph);
  try {
    d.save(file.string());
  } catch (const c10::Error& e) {
    throw DataError(file.string() + ": cannot write the deployed model: " + e.what_without_backtrace());
  }
}

std::string PreparedModel::graph_text() const {
  return impl_->module.get_method("forward").graph()->toString();
}

}  // namespace mqb
