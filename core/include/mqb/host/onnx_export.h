// ONNX export of a calibrated PreparedModel, written with libonnx's protobuf API
// (opset 13): its inlined TorchScript forward becomes an ONNX graph and every enabled
// site a QuantizeLinear/DequantizeLinear pair (OnnxForm::QDQ), nothing (OnnxForm::Float,
// weights clipped to their grid) or QLinear ops (OnnxForm::QLinear). The result passes
// onnx::checker and strict shape inference before it is written (atomically).
// Supported ops and how grids narrower than int8/uint8 are kept: README.md "Deploy".
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mqb/deploy.h"
#include "mqb/host/prepared_model.h"

namespace mqb {

struct OnnxExportOptions {
  OnnxForm form = OnnxForm::QDQ;
  // Shape of one input batch; dimension 0 is written as the symbolic batch "N".
  std::vector<int64_t> input_shape;
  std::string graph_name = "mqbench";
};

// Every enabled site with its frozen qparams and the ONNX tensor name it quantizes
// (graph order). Throws ModelError for a site whose quantizer has no affine form (NNIE).
MQB_API std::vector<DeploySite> deploy_sites(const PreparedModel& model);

// Writes the ONNX model. An op outside the supported set is a ModelError naming the op
// and the module path (and source line) where it is.
MQB_API void export_onnx(const PreparedModel& model, const std::filesystem::path& file,
                         const OnnxExportOptions& options);

}  // namespace mqb
