// The graph pass that applies a backend's SiteRules (MQBench §2.4) to an inlined
// TorchScript forward graph: it chooses which tensors get a quantization site and
// names them. It does not change the graph; prepare.cpp inserts the sites.
#pragma once
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/ir.h>

#include <string>
#include <vector>

#include "mqb/host/config.h"
#include "mqb/host/prepared_model.h"

namespace mqb::prep {

struct PlannedSite {
  torch::jit::Value* value = nullptr;  // the tensor to quantize
  // Other reads of the same parameter (one per branch of a prim::If): same site.
  std::vector<torch::jit::Value*> more_values;
  SiteInfo info;
};

struct SitePlan {
  std::vector<PlannedSite> sites;
  std::vector<std::string> unsupported_ops;  // op kinds no rule knows (left in float)
};

// `module` owns the graph; it tells which optional attributes (biases) hold a tensor.
SitePlan plan_sites(const std::shared_ptr<torch::jit::Graph>& graph, const torch::jit::Module& module,
                    const ResolvedConfig& config);

// The op family of a node ("conv", "add", ...; "" when the node is none of them).
std::string op_family(const torch::jit::Node* node);

// The module path of an inlined node from its call stack ("layer1.0.conv1"; "" at top level).
std::string module_path_of(const torch::jit::Node* node);

}  // namespace mqb::prep
