// Segments of the prepared forward graph (see segments.h).
#include "segments.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/ir.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "../prepare/prepared_impl.h"
#include "../prepare/site_pass.h"

namespace mqb::aptq {

namespace {

using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;

bool is_quantize(const Node* n) {
  static const c10::Symbol op = c10::Symbol::fromQualString(prep::kQuantizeOp);
  return n->kind() == op;
}

// Nodes every segment may re-create for itself instead of receiving their value.
bool is_clonable(const Node* n) { return n->kind() == c10::prim::Constant || n->kind() == c10::prim::GetAttr; }

bool under(const std::string& path, const std::string& scope) {
  return path == scope || (path.size() > scope.size() && path.compare(0, scope.size(), scope) == 0 &&
                           path[scope.size()] == '.');
}

std::string parent_of(const std::string& path) {
  const size_t dot = path.rfind('.');
  return dot == std::string::npos ? "" : path.substr(0, dot);
}

std::string owner_of_weight(const std::string& site) { return parent_of(site); }

bool is_tensor(const Value* v) { return v->type()->isSubtypeOf(*c10::TensorType::get()); }

class Partitioner {
 public:
  Partitioner(PreparedModel::Impl& pm, const std::string& pattern)
      : pm_(pm), graph_(pm.module.get_method("forward").graph()), block_mode_(pattern == "block") {
    for (Node* n : graph_->block()->nodes()) {
      index_[n] = nodes_.size();
      nodes_.push_back(n);
    }
    std::map<int64_t, size_t> site_of_id;
    for (size_t i = 0; i < pm.ids.size(); ++i) site_of_id[pm.ids[i]] = i;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      Node* n = nodes_[i];
      paths_.push_back(prep::module_path_of(n));
      if (!is_quantize(n)) continue;
      auto id = torch::jit::toIValue(n->input(1));
      if (!id || !id->isInt() || !site_of_id.count(id->toInt()))
        throw ModelError("advanced PTQ: a quantization node of the graph names no site of this model");
      site_node_[site_of_id.at(id->toInt())] = i;
    }
  }

  Partition run() {
    Partition p;
    for (size_t i = 1; i < graph_->inputs().size(); ++i) p.inputs.push_back(graph_->inputs()[i]);
    plan_units(p);
    cut(p);
    return p;
  }

 private:
  // ---- units -------------------------------------------------------------------
  std::set<std::string> block_scopes() const {
    std::set<std::string> residual;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      const Node* n = nodes_[i];
      if (paths_[i].empty() || prep::op_family(n) != "add" || n->inputs().size() < 2) continue;
      if (is_tensor(n->input(0)) && is_tensor(n->input(1))) residual.insert(paths_[i]);
    }
    std::set<std::string> scopes = residual;
    // Siblings of residual scopes holding >= 2 weights (MobileNetV2's stride-2 blocks).
    for (const std::string& r : residual) {
      const std::string parent = parent_of(r);
      std::map<std::string, int> weights;
      for (const auto& s : pm_.sites) {
        if (s.kind != SiteKind::Weight) continue;
        if (!parent.empty() && !under(s.name, parent)) continue;
        const std::string rest = parent.empty() ? s.name : s.name.substr(parent.size() + 1);
        const std::string child = rest.substr(0, rest.find('.'));
        if (child.size() == rest.size()) continue;  // a weight of the parent itself
        ++weights[parent.empty() ? child : parent + "." + child];
      }
      for (const auto& [scope, count] : weights)
        if (count >= 2) scopes.insert(scope);
    }
    // Nested scopes: keep the outermost.
    std::set<std::string> outer;
    for (const auto& s : scopes) {
      bool nested = false;
      for (const auto& o : scopes) nested = nested || (o != s && under(s, o));
      if (!nested) outer.insert(s);
    }
    return outer;
  }

  void plan_units(Partition& p) {
    std::vector<size_t> weights;
    for (const auto& [site, node] : site_node_)
      if (pm_.sites[site].kind == SiteKind::Weight) weights.push_back(site);
    std::sort(weights.begin(), weights.end(), [&](size_t a, size_t b) { return site_node_[a] < site_node_[b]; });
    const std::set<std::string> scopes = block_mode_ ? block_scopes() : std::set<std::string>{};
    std::string current_scope = "\x01";
    for (size_t w : weights) {
      const std::string& name = pm_.sites[w].name;
      std::string scope;
      for (const auto& s : scopes)
        if (under(name, s)) scope = s;
      const bool extend = !p.units.empty() &&
                          (scope.empty() ? (block_mode_ && current_scope.empty() && p.units.back().weight_sites.size() < 3)
                                         : scope == current_scope);
      if (!extend) {
        ReconstructionUnit u;
        u.kind = !scope.empty() ? "block" : block_mode_ ? "layers" : "layer";
        u.name = scope.empty() ? owner_of_weight(name) : scope;
        p.units.push_back(u);
        unit_scope_.push_back(scope);
        unit_start_.push_back(site_node_[w]);
      } else if (scope.empty()) {
        p.units.back().name += "+" + owner_of_weight(name);
      }
      p.units.back().weight_sites.push_back(name);
      current_scope = scope;
    }
    if (p.units.empty()) throw ModelError("advanced PTQ: the model has no quantized conv/linear weight to reconstruct");
  }

  // ---- cuts --------------------------------------------------------------------
  // The last top-level node of a block scope, extended over the quantization nodes of
  // tensors it produced (its output quantizer belongs to it, as in MQBench).
  size_t scope_end(const std::string& scope) const {
    size_t end = 0;
    for (size_t i = 0; i < nodes_.size(); ++i)
      if (!is_clonable(nodes_[i]) && under(paths_[i], scope)) end = i;
    // Constants and attribute reads may sit between a producer and its quantize node.
    for (size_t i = end + 1; i < nodes_.size() && (is_quantize(nodes_[i]) || is_clonable(nodes_[i])); ++i) {
      if (!is_quantize(nodes_[i])) continue;
      Node* producer = nodes_[i]->input(0)->node();
      auto it = index_.find(producer);
      if (it == index_.end() || is_clonable(producer) || it->second > end) break;
      end = i;
    }
    return end;
  }

  size_t top_index(Node* n) const {
    while (n->owningBlock() != graph_->block()) n = n->owningBlock()->owningNode();
    if (n == graph_->return_node()) return nodes_.size();
    return index_.at(n);
  }

  void cut(Partition& p) {
    std::set<size_t> cuts{0, nodes_.size()};
    std::map<size_t, int> unit_at;
    std::vector<size_t> block_end(p.units.size(), 0);
    for (size_t u = 0; u < p.units.size(); ++u) {
      size_t start = unit_start_[u];
      if (!unit_scope_[u].empty()) {
        for (size_t i = 0; i < nodes_.size(); ++i)
          if (!is_clonable(nodes_[i]) && under(paths_[i], unit_scope_[u])) start = std::min(start, i);
        for (const auto& w : p.units[u].weight_sites) start = std::min(start, site_node_.at(site_index(w)));
        block_end[u] = scope_end(unit_scope_[u]) + 1;
        cuts.insert(block_end[u]);
      }
      unit_start_[u] = start;
      cuts.insert(start);
      unit_at[start] = static_cast<int>(u);
    }
    const std::vector<size_t> c(cuts.begin(), cuts.end());
    for (size_t k = 0; k + 1 < c.size(); ++k) {
      Segment s;
      s.begin = c[k];
      s.end = c[k + 1];
      auto it = unit_at.find(s.begin);
      s.unit = it == unit_at.end() ? -1 : it->second;
      if (s.unit >= 0 && !unit_scope_[s.unit].empty() && s.end != block_end[s.unit])
        throw ModelError("advanced PTQ: block '" + p.units[s.unit].name +
                         "' overlaps another unit in the graph; use pattern = \"layer\"");
      fill(s);
      if (s.unit >= 0) {
        ReconstructionUnit& u = p.units[s.unit];
        for (const auto& w : u.weight_sites) {
          const size_t at = site_node_.at(site_index(w));
          if (at < s.begin || at >= s.end)
            throw ModelError("advanced PTQ: the weight site '" + w + "' of unit '" + u.name +
                             "' lies outside the unit's part of the graph; use pattern = \"layer\"");
        }
        for (const auto& name : s.sites)
          if (pm_.sites[site_index(name)].kind == SiteKind::Activation) u.activation_sites.push_back(name);
      }
      p.segments.push_back(std::move(s));
    }
  }

  size_t site_index(const std::string& name) const { return pm_.index.at(name); }

  void walk(Node* n, const std::function<void(Node*)>& f) const {
    f(n);
    for (auto* b : n->blocks())
      for (Node* m : b->nodes()) walk(m, f);
  }

  void fill(Segment& s) const {
    for (const auto& [site, node] : site_node_)
      if (node >= s.begin && node < s.end) s.sites.push_back(pm_.sites[site].name);
    std::unordered_set<const Value*> seen_in;
    for (size_t i = s.begin; i < s.end; ++i) {
      walk(nodes_[i], [&](Node* n) {
        for (Value* v : n->inputs()) {
          if (v == graph_->inputs()[0] || seen_in.count(v)) continue;
          if (v->node()->kind() != c10::prim::Param) {
            if (is_clonable(v->node())) continue;
            if (top_index(v->node()) >= s.begin) continue;  // defined inside the segment
          } else if (v->node() != graph_->param_node()) {
            continue;  // a sub-block's own parameter
          }
          seen_in.insert(v);
          s.live_in.push_back(v);
        }
      });
    }
    for (size_t i = s.begin; i < s.end; ++i) {
      if (is_clonable(nodes_[i])) continue;
      for (Value* v : nodes_[i]->outputs()) {
        bool escapes = false;
        for (const auto& use : v->uses()) escapes = escapes || top_index(use.user) >= s.end;
        if (escapes) s.live_out.push_back(v);
      }
    }
    s.fn = build(s);
  }

  std::shared_ptr<torch::jit::GraphFunction> build(const Segment& s) const {
    auto g = std::make_shared<Graph>();
    std::unordered_map<const Value*, Value*> env;
    env[graph_->inputs()[0]] = g->addInput("self")->setType(graph_->inputs()[0]->type());
    for (ValueId id : s.live_in) {
      const auto* v = static_cast<const Value*>(id);
      env[v] = g->addInput()->setType(v->type());
    }
    std::function<Value*(Value*)> map = [&](Value* v) -> Value* {
      auto it = env.find(v);
      if (it != env.end()) return it->second;
      if (!is_clonable(v->node()))
        throw ModelError("advanced PTQ: internal error: value %" + v->debugName() + " is not available to a segment");
      Node* c = g->createClone(v->node(), map);
      g->appendNode(c);
      for (size_t k = 0; k < v->node()->outputs().size(); ++k) env[v->node()->output(k)] = c->output(k);
      return env.at(v);
    };
    for (size_t i = s.begin; i < s.end; ++i) {
      Node* c = g->createClone(nodes_[i], map);
      g->appendNode(c);
      for (size_t k = 0; k < nodes_[i]->outputs().size(); ++k) env[nodes_[i]->output(k)] = c->output(k);
    }
    std::vector<Value*> outs;
    for (ValueId id : s.live_out) outs.push_back(env.at(static_cast<const Value*>(id)));
    Node* tuple = g->appendNode(g->createTuple(outs));
    g->registerOutput(tuple->output());
    return std::make_shared<torch::jit::GraphFunction>(
        c10::QualifiedName("mqb_segment_" + std::to_string(s.begin) + "_" + std::to_string(s.end)), g, nullptr);
  }

  PreparedModel::Impl& pm_;
  std::shared_ptr<Graph> graph_;
  bool block_mode_;
  std::vector<Node*> nodes_;
  std::unordered_map<const Node*, size_t> index_;
  std::vector<std::string> paths_;
  std::map<size_t, size_t> site_node_;  // site index -> top-level node index of its quantize node
  std::vector<std::string> unit_scope_;
  std::vector<size_t> unit_start_;
};

}  // namespace

Partition partition_model(PreparedModel& model, const std::string& pattern) {
  return Partitioner(model.impl(), pattern).run();
}

std::vector<c10::IValue> run_segment(PreparedModel& model, const Segment& segment,
                                     const std::vector<c10::IValue>& inputs) {
  torch::jit::Stack stack;
  stack.reserve(inputs.size() + 1);
  stack.emplace_back(model.impl().module._ivalue());
  stack.insert(stack.end(), inputs.begin(), inputs.end());
  segment.fn->run(stack);
  return stack.back().toTupleRef().elements().vec();
}

at::Tensor module_tensor(PreparedModel& model, const std::string& path) {
  torch::jit::Module m = model.impl().module;
  std::string rest = path;
  for (size_t dot = rest.find('.'); dot != std::string::npos; dot = rest.find('.')) {
    m = m.attr(rest.substr(0, dot)).toModule();
    rest = rest.substr(dot + 1);
  }
  return m.attr(rest).toTensor();
}

std::vector<at::Tensor> module_parameters(PreparedModel& model) {
  std::vector<at::Tensor> out;
  for (const auto& p : model.impl().module.parameters(/*recurse=*/true)) out.push_back(p);
  return out;
}

}  // namespace mqb::aptq
