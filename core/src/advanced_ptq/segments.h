// Cutting a prepared forward graph into segments that run on their own (layers, blocks
// and the glue between them), for reconstruction. Only segments.cpp sees TorchScript
// types: graph values are opaque ids here.
#pragma once
#include <ATen/core/ivalue.h>

#include <memory>
#include <string>
#include <vector>

#include "mqb/host/advanced_ptq.h"

namespace torch::jit {
struct GraphFunction;
}

namespace mqb::aptq {

using ValueId = const void*;  // a torch::jit::Value* of the prepared forward graph

struct Segment {
  size_t begin = 0, end = 0;  // top-level node range [begin, end)
  int unit = -1;              // index into Partition::units, -1 for glue
  std::vector<ValueId> live_in;   // values it reads that earlier segments (or the graph inputs) define
  std::vector<ValueId> live_out;  // values it defines that later segments or the graph output read
  std::vector<std::string> sites;  // quantization sites whose nodes lie in the segment
  std::shared_ptr<torch::jit::GraphFunction> fn;  // (self, live_in...) -> tuple(live_out...)
};

struct Partition {
  std::vector<Segment> segments;  // in graph order; running all of them is the forward
  std::vector<ReconstructionUnit> units;
  std::vector<ValueId> inputs;  // the graph's data inputs (self excluded)
};

// pattern "layer": one unit per conv/linear weight (with the nodes up to the next one);
// "block": residual scopes (a module path holding a tensor + tensor add, e.g. ResNet's
// "layer1.0", MobileNetV2's "features.3"), their sibling modules with >= 2 weights
// (MobileNetV2's inverted residuals without shortcut), and runs of up to three plain
// layers elsewhere (MQBench's stacking).
Partition partition_model(PreparedModel& model, const std::string& pattern);

// Runs one segment on its live-in values (one IValue each); returns its live-out values.
std::vector<c10::IValue> run_segment(PreparedModel& model, const Segment& segment,
                                     const std::vector<c10::IValue>& inputs);

// A tensor attribute of the prepared module by dotted path ("layer1.conv1.weight").
at::Tensor module_tensor(PreparedModel& model, const std::string& path);

// Every parameter of the prepared module (to switch requires_grad off while rounding
// variables are learned).
std::vector<at::Tensor> module_parameters(PreparedModel& model);

}  // namespace mqb::aptq
