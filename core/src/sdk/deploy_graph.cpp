// The plugin-side look-ups of the deploy graph and MQBench's range propagation (see
// mqb/deploy_graph.h). Graphs of deployable models have at most a few hundred nodes:
// linear scans keep the SDK type plain data.
#include "mqb/deploy_graph.h"

#include <algorithm>

namespace mqb {

namespace {

bool passes_range_on(const DeployNode& n) {
  return n.op_type == "Flatten" || n.op_type == "Resize" || n.op_type == "Reshape";
}

}  // namespace

const DeployNode* DeployGraph::producer(const std::string& tensor) const {
  if (tensor.empty()) return nullptr;
  for (const DeployNode& n : nodes)
    if (std::find(n.outputs.begin(), n.outputs.end(), tensor) != n.outputs.end()) return &n;
  return nullptr;
}

std::vector<std::pair<const DeployNode*, size_t>> DeployGraph::consumers(const std::string& tensor) const {
  std::vector<std::pair<const DeployNode*, size_t>> out;
  if (tensor.empty()) return out;
  for (const DeployNode& n : nodes)
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (n.inputs[i] == tensor) out.emplace_back(&n, i);
  return out;
}

const DeployInitializer* DeployGraph::initializer(const std::string& name) const {
  for (const DeployInitializer& i : initializers)
    if (i.name == name) return &i;
  return nullptr;
}

std::vector<RangeCopy> propagated_ranges(const DeployGraph& graph,
                                         const std::function<bool(const std::string&)>& has_record) {
  std::vector<RangeCopy> copies;
  for (const DeployNode& start : graph.nodes) {
    if (!passes_range_on(start) || start.inputs.empty() || has_record(start.inputs[0])) continue;
    // Walk down the first-consumer chain: the reshaped tensor's record describes the
    // same values, so it is the range of the reshape's input too.
    const DeployNode* n = &start;
    while (true) {
      if (!n->inputs.empty() && has_record(n->inputs[0])) {
        copies.push_back({start.inputs[0], n->inputs[0]});
        break;
      }
      if (!passes_range_on(*n) || n->outputs.empty()) break;
      const auto next = graph.consumers(n->outputs[0]);
      if (next.empty()) break;
      n = next.front().first;
    }
  }
  return copies;
}

}  // namespace mqb
