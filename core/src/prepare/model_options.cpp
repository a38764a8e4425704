// preserve_attr / concrete_args / leaf_module for TorchScript (see model_options.h).
#include "model_options.h"

#include "module_path.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>

#include <algorithm>

namespace mqb::prep {

namespace {

using torch::jit::Block;
using torch::jit::Node;
using torch::jit::Value;

bool is_leaf(const c10::ClassTypePtr& cls, const std::vector<std::string>& leaf_types) {
  if (!cls || !cls->name()) return false;
  const std::string name = last_component(cls->name()->qualifiedName());
  return std::any_of(leaf_types.begin(), leaf_types.end(),
                     [&](const std::string& t) { return last_component(t) == name; });
}

// Inlines the calls directly in `block` (and its sub-blocks) with their unoptimized
// graphs, whose own calls are still calls: the next round sees them, so a leaf at any
// depth is found. Returns whether anything was inlined.
bool inline_one_level(Block* block, const std::vector<std::string>& leaf_types) {
  bool changed = false;
  for (auto it = block->nodes().begin(); it != block->nodes().end();) {
    Node* cur = *it++;
    if (cur->kind() == c10::prim::CallFunction) {
      Node* fn = cur->input(0)->node();
      if (fn->kind() != c10::prim::Constant) continue;
      auto type = fn->output()->type()->cast<c10::FunctionType>();
      torch::jit::GraphFunction* callee = type ? torch::jit::tryToGraphFunction(*type->function()) : nullptr;
      if (!callee) continue;
      cur->removeInput(0);
      torch::jit::inlineCallTo(cur, callee, /*use_graph=*/false);
      changed = true;
    } else if (cur->kind() == c10::prim::CallMethod) {
      auto cls = cur->input(0)->type()->cast<c10::ClassType>();
      if (!cls || is_leaf(cls, leaf_types)) continue;
      torch::jit::GraphFunction* callee = torch::jit::tryToGraphFunction(cls->getMethod(cur->s(c10::attr::name)));
      if (!callee) continue;
      torch::jit::inlineCallTo(cur, callee, /*use_graph=*/false);
      changed = true;
    } else {
      for (Block* sub : cur->blocks()) changed = inline_one_level(sub, leaf_types) || changed;
    }
  }
  return changed;
}

// The forward argument a concrete_args key names: scripted graphs call it "flag.1",
// traced ones "flag".
Value* find_argument(torch::jit::Graph& graph, const std::string& name) {
  const auto& in = graph.inputs();
  for (size_t i = 1; i < in.size(); ++i) {
    const std::string& dn = in[i]->debugName();
    if (dn == name || dn.rfind(name + ".", 0) == 0) return in[i];
  }
  return nullptr;
}

std::string argument_names(const torch::jit::Graph& graph) {
  std::string out;
  const auto& in = graph.inputs();
  for (size_t i = 1; i < in.size(); ++i) {
    std::string dn = in[i]->debugName();
    const size_t dot = dn.find('.');
    out += (out.empty() ? "" : ", ") + (dot == std::string::npos ? dn : dn.substr(0, dot));
  }
  return out.empty() ? "(none)" : out;
}

// The constant for `value` if it fits an argument of type `type`, else nullopt.
std::optional<c10::IValue> constant_for(const c10::TypePtr& declared, const ParamValue& value) {
  c10::TypePtr type = declared;
  if (auto opt = type->cast<c10::OptionalType>()) type = opt->getElementType();
  switch (type->kind()) {
    case c10::TypeKind::BoolType:
      if (auto* b = std::get_if<bool>(&value)) return c10::IValue(*b);
      break;
    case c10::TypeKind::IntType:
      if (auto* i = std::get_if<int64_t>(&value)) return c10::IValue(*i);
      break;
    case c10::TypeKind::FloatType:
      if (auto* d = std::get_if<double>(&value)) return c10::IValue(*d);
      if (auto* i = std::get_if<int64_t>(&value)) return c10::IValue(static_cast<double>(*i));
      break;
    case c10::TypeKind::StringType:
      if (auto* s = std::get_if<std::string>(&value)) return c10::IValue(*s);
      break;
    default:
      break;
  }
  return std::nullopt;
}

}  // namespace

void inline_calls_except(const std::shared_ptr<torch::jit::Graph>& graph, const std::vector<std::string>& leaf_types) {
  if (leaf_types.empty()) {
    torch::jit::Inline(*graph);
    return;
  }
  while (inline_one_level(graph->block(), leaf_types)) {
  }
}

void apply_concrete_args(const std::shared_ptr<torch::jit::Graph>& graph, const Params& concrete_args) {
  if (concrete_args.empty()) return;
  for (const std::string& key : concrete_args.keys()) {
    Value* arg = find_argument(*graph, key);
    if (!arg)
      throw ModelError(concrete_args.location(key).describe() + ": concrete_args." + key + ": forward has no argument '" + key +
                       "'; its arguments are: " + argument_names(*graph));
    auto constant = constant_for(arg->type(), concrete_args.value(key));
    if (!constant)
      throw ConfigError(concrete_args.location(key).describe() + ": concrete_args." + key + " = " + concrete_args.to_string(key) +
                        ": forward's argument '" + key + "' is " + arg->type()->repr_str() +
                        "; concrete_args takes bool, int, float or str arguments of a matching type");
    torch::jit::WithInsertPoint guard(graph->block()->nodes().front());
    arg->replaceAllUsesWith(graph->insertConstant(*constant));
  }
  auto g = graph;
  torch::jit::ConstantPropagation(g);
  torch::jit::EliminateDeadCode(g);
}

void check_preserved_attributes(const torch::jit::Module& module,
                                const std::map<std::string, std::vector<std::string>>& preserve_attr) {
  for (const auto& [path, names] : preserve_attr) {
    std::string missing;
    const std::optional<torch::jit::Module> cur = submodule_at(module, path, &missing);
    if (!cur)
      throw ModelError("preserve_attr.\"" + path + "\": the model has no submodule '" + missing +
                       "' (use \"\" for the root module)");
    for (const std::string& name : names)
      if (!cur->hasattr(name) && !cur->find_method(name))
        throw ModelError("preserve_attr.\"" + path + "\": " + (path.empty() ? "the root module" : "module '" + path + "'") +
                         " has no attribute or method '" + name + "'");
  }
}

}  // namespace mqb::prep
