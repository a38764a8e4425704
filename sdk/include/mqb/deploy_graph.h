// The structure of the float ONNX model (OnnxForm::Float) for backend deploy hooks,
// DeployContext::graph(): which node produces and which nodes read a tensor, the op
// types, initializer shapes. Backends whose files depend on the graph use it (STPU's
// conv emin and bias alpha, Tengine's conv+relu fusion, MQBench's range propagation).
// Tensor names are DeploySite::tensor's and those of every ONNX file the core writes.
// Plain data on purpose (no libonnx types): part of the stable SDK.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "mqb/error.h"

namespace mqb {

struct MQB_API DeployNode {
  std::string name;                  // ONNX node name (MQBench keys "<node>_weights" by it)
  std::string op_type;               // "Conv", "Gemm", "Relu", "Clip", "Concat", "Resize", ...
  std::vector<std::string> inputs;   // tensor names in ONNX input order; "" = omitted optional input
  std::vector<std::string> outputs;
};

struct MQB_API DeployInitializer {
  std::string name;
  std::vector<int64_t> shape;
  // Values of small constants (at most kSmallConstant elements: Clip bounds, Resize
  // scales, Reshape shapes), converted to double; empty for larger tensors (weights).
  std::vector<double> values;
  static constexpr size_t kSmallConstant = 16;
};

struct MQB_API DeployGraph {
  std::vector<DeployNode> nodes;  // graph order (topological)
  std::vector<DeployInitializer> initializers;
  std::vector<std::string> inputs;   // graph input tensors
  std::vector<std::string> outputs;  // graph output tensors

  // The node that outputs `tensor`; nullptr for graph inputs, initializers and unknown names.
  const DeployNode* producer(const std::string& tensor) const;
  // Every (node, input index) reading `tensor`, in graph order.
  std::vector<std::pair<const DeployNode*, size_t>> consumers(const std::string& tensor) const;
  // The initializer named `name`, nullptr when there is none.
  const DeployInitializer* initializer(const std::string& name) const;
};

// One record copied by range propagation: `to` gets the record of `from`.
struct MQB_API RangeCopy {
  std::string to;
  std::string from;
};

// MQBench's range propagation (spec §5.7 (c)6): for each Flatten / Resize / Reshape whose
// input has no record, follow the first consumer of its output (through further Flatten /
// Resize / Reshape nodes) to the first node whose input 0 has a record; that record is
// copied to this input. Returns the copies in graph order; `has_record` says whether a
// tensor has a record before propagation.
MQB_API std::vector<RangeCopy> propagated_ranges(const DeployGraph& graph,
                                                 const std::function<bool(const std::string&)>& has_record);

}  // namespace mqb
