// The float model's structure for DeployContext::graph(): the exporter's ModelProto
// (onnx_export.cpp) read into the SDK's plain DeployGraph (float_graph.cpp), without
// writing or re-reading a file. Internal to the core.
#pragma once
#include <set>
#include <string>

#include "mqb/deploy_graph.h"
#include "mqb/host/onnx_export.h"

namespace onnx {
class ModelProto;
}

namespace mqb {

// The graph export_onnx writes for OnnxForm::Float (options.form is ignored), before
// shape inference adds value types: the same nodes, tensor names and initializers.
// `reached_sites`, when given, receives the names of the sites on the path the example
// input takes (sites in untaken branches of scripted control flow are not).
::onnx::ModelProto float_onnx_model(const PreparedModel& model, const OnnxExportOptions& options,
                                    std::set<std::string>* reached_sites = nullptr);

// float_onnx_model's nodes, initializers (shapes, small constants' values), inputs and outputs.
DeployGraph float_model_graph(const PreparedModel& model, const OnnxExportOptions& options,
                              std::set<std::string>* reached_sites = nullptr);

}  // namespace mqb
