// The QLinear form (OnnxForm::QLinear, ONNX_QNN's deploy): a rewrite of the QDQ model
// export_onnx builds, in the spirit of MQBench's deploy_onnx_qnn (spec §5.7 (h)), so the
// integer ops run on uint8/int8 tensors end to end:
//   DQ(x) -> Conv(DQ(W), b) [-> Relu] -> Q    becomes  QLinearConv(x, W codes, int32 b)
//   DQ(a), DQ(b) -> Add [-> Relu] -> Q       becomes  com.microsoft QLinearAdd
//   DQ(x) -> (Global)AveragePool -> Q        becomes  com.microsoft QLinear(Global)AveragePool
// Everything else keeps its QuantizeLinear/DequantizeLinear pairs (ONNX Runtime runs
// mixed graphs): Gemm/MatMul, Concat, MaxPool and ops between differently quantized
// tensors, as in MQBench. What differs from MQBench and why: README.md "Deploy".
#pragma once
#include "onnx_proto.h"

namespace mqb {

// Rewrites `model` (a QDQ model from export_onnx, nodes in topological order) in place.
// Weight codes are computed as the simulation's fake quantizer computes them, biases
// become int32 at scale s_x * s_w (rounded to nearest). Removes the Q/DQ nodes and
// initializers nothing reads any more.
void rewrite_to_qlinear(::onnx::ModelProto& model);

}  // namespace mqb
