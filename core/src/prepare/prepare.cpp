// prepare(): load, clone, fold BN, inline, remove mutation, insert sites (see prepare.h).
#include "mqb/host/prepare.h"

#include <ATen/core/grad_mode.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/fold_conv_bn.h>
#include <torch/csrc/jit/passes/remove_mutation.h>
#include <torch/csrc/jit/serialization/import.h>

#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>

#include "prepared_impl.h"
#include "model_options.h"
#include "module_path.h"
#include "site_pass.h"

namespace mqb {

namespace prep {

torch::jit::Module load_torchscript(const std::filesystem::path& file) {
  if (!std::filesystem::exists(file)) throw ModelError(file.string() + ": no such model file");
  if (std::filesystem::is_directory(file))
    throw ModelError(file.string() + ": is a directory, not a TorchScript file");
  try {
    return torch::jit::load(file.string());
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    throw ModelError(file.string() +
                     ": not a TorchScript model (write it with torch.jit.script(m).save() or "
                     "torch.jit.trace(m, x).save()): " +
                     msg.substr(0, msg.find('\n')));
  } catch (const std::exception& e) {
    throw ModelError(file.string() + ": not a TorchScript model: " + std::string(e.what()).substr(0, 200));
  }
}

torch::jit::Module load_torchscript_bytes(const std::string& bytes, const std::string& what) {
  std::istringstream in(bytes);
  try {
    return torch::jit::load(in);
  } catch (const c10::Error& e) {
    std::string msg = e.what_without_backtrace();
    throw ModelError(what + ": the embedded TorchScript is unreadable: " + msg.substr(0, msg.find('\n')));
  }
}

std::shared_ptr<FakeQuantize> make_quantizer(const QConfigSide& c, Registry& registry) {
  return registry.create_quantizer(c.fake_quantize, c.qscheme, c.fakeq_params, c.observer, c.observer_args);
}

void register_sites(PreparedModel::Impl& impl, Registry& registry) {
  for (size_t i = 0; i < impl.sites.size(); ++i) {
    auto st = std::make_shared<SiteState>();
    st->fq = make_quantizer(impl.sites[i].config, registry);
    st->is_weight = impl.sites[i].kind == SiteKind::Weight;
    if (st->is_weight)
      st->fq->set_quant_type(QuantType::Param);
    else
      st->fq->set_quant_type(QuantType::Tensor);
    impl.states.push_back(st);
    impl.ids.push_back(register_site(st));
    impl.index[impl.sites[i].name] = i;
  }
}

}  // namespace prep

namespace {

// Replaces reads of plain bool attributes (torchvision's use_res_connect, ...) by
// their values, except `training`, and folds the branches they select: the graph is
// specialized as FX tracing specializes MQBench's model, so one tensor gets one site.
void specialize_bool_attributes(const torch::jit::Module& m,
                                const std::shared_ptr<torch::jit::Graph>& graph) {
  std::vector<torch::jit::Node*> reads;
  std::function<void(torch::jit::Block*)> walk = [&](torch::jit::Block* b) {
    for (torch::jit::Node* n : b->nodes()) {
      if (n->kind() == c10::prim::GetAttr && n->output()->type()->kind() == c10::TypeKind::BoolType &&
          n->s(c10::attr::name) != "training")
        reads.push_back(n);
      for (torch::jit::Block* sb : n->blocks()) walk(sb);
    }
  };
  walk(graph->block());
  for (torch::jit::Node* n : reads) {
    std::vector<std::string> path;
    torch::jit::Value* v = n->output();
    while (v->node()->kind() == c10::prim::GetAttr) {
      path.push_back(v->node()->s(c10::attr::name));
      v = v->node()->input(0);
    }
    if (v != graph->inputs().at(0)) continue;
    std::string owner_path;  // path holds the attribute names innermost first
    for (size_t i = path.size(); i-- > 1;) owner_path += (owner_path.empty() ? "" : ".") + path[i];
    const std::optional<torch::jit::Module> owner = prep::submodule_at(m, owner_path);
    if (!owner) continue;
    c10::IValue value = owner->attr(path[0]);
    if (!value.isBool()) continue;
    torch::jit::WithInsertPoint guard(n);
    n->output()->replaceAllUsesWith(graph->insertConstant(value.toBool()));
  }
  auto g = graph;
  torch::jit::ConstantPropagation(g);
}

bool has_aten_op(const torch::jit::Graph& g) {
  for (const torch::jit::Node* n : g.nodes())
    if (n->kind().is_aten()) return true;
  return false;
}

}  // namespace

PreparedModel prepare(const std::filesystem::path& model_file, const ResolvedConfig& config,
                      Registry& registry, const PrepareOptions& options) {
  torch::jit::Module loaded = prep::load_torchscript(model_file);
  if (!loaded.find_method("forward"))
    throw ModelError(model_file.string() + ": the TorchScript module has no forward method");
  loaded.eval();
  const bool fold = options.fold_bn.value_or(config.site_rules.fold_bn);
  // FoldConvBatchNorm works on a clone; without folding, clone explicitly so the
  // caller's module (and its shared submodule types) stay untouched.
  torch::jit::Module m;
  {
    at::NoGradGuard no_grad;  // folded weights must be leaves, not results of a graph
    m = fold ? torch::jit::FoldConvBatchNorm(loaded) : loaded.clone();
  }
  for (const auto& p : m.named_parameters(/*recurse=*/true))
    if (!p.value.is_leaf()) p.value.detach_();
  prep::check_preserved_attributes(m, config.model_options.preserve_attr);
  auto graph = m.get_method("forward").graph();
  prep::inline_calls_except(graph, config.model_options.leaf_module);
  prep::apply_concrete_args(graph, config.model_options.concrete_args);
  torch::jit::RemoveTensorMutation(graph);
  specialize_bool_attributes(m, graph);
  torch::jit::EliminateDeadCode(graph);
  if (!has_aten_op(*graph))
    throw ModelError(model_file.string() + ": the forward graph is empty (no aten operation to quantize)");

  prep::SitePlan plan = prep::plan_sites(graph, m, config);

  auto impl = std::make_unique<PreparedModel::Impl>();
  impl->module = m;
  impl->backend = config.backend;
  impl->unsupported = plan.unsupported_ops;
  for (const auto& s : plan.sites) impl->sites.push_back(s.info);
  prep::register_sites(*impl, registry);

  const c10::Symbol op = c10::Symbol::fromQualString(prep::kQuantizeOp);
  for (size_t i = 0; i < plan.sites.size(); ++i) {
    std::vector<torch::jit::Value*> values = {plan.sites[i].value};
    values.insert(values.end(), plan.sites[i].more_values.begin(), plan.sites[i].more_values.end());
    for (torch::jit::Value* v : values) {
      torch::jit::Node* def = v->node();
      torch::jit::Node* anchor = def->kind() == c10::prim::Param ? v->owningGraph()->param_node() : def;
      torch::jit::Node* q = nullptr;
      {
        torch::jit::WithInsertPoint guard(anchor->next());
        // An Optional[Tensor] parameter (a scripted conv's bias) is a tensor here: the
        // site rule only picks attributes that hold one.
        torch::jit::Value* x = v->type()->cast<c10::OptionalType>() ? graph->insertUncheckedCast(v, c10::TensorType::get()) : v;
        torch::jit::Value* out = graph->insert(op, {x, impl->ids[i]});
        q = out->node();
      }
      v->replaceAllUsesAfterNodeWith(q, q->output());
    }
  }
  if (options.warn_unsupported && !impl->unsupported.empty()) {
    std::cerr << "mqbench: warning: " << model_file.string() << ": ops left in float (no rule knows them):";
    for (const auto& k : impl->unsupported) std::cerr << " " << k;
    std::cerr << "\n";
  }
  return PreparedModel(std::move(impl));
}

PreparedModel prepare(const std::filesystem::path& model_file, const std::filesystem::path& config_file,
                      Registry& registry, const PrepareOptions& options) {
  Config cfg = load_config(config_file);
  if (!cfg.plugin_dirs.empty()) registry.set_search_path(SearchPath::standard(cfg.plugin_dirs));
  ResolvedConfig resolved = resolve_config(cfg, registry);
  return prepare(model_file, resolved, registry, options);
}

}  // namespace mqb
