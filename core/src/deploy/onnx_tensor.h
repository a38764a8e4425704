// ONNX initializers <-> ATen tensors, for the exporter and the QLinear pass: one place for
// the element-type mapping and the raw little-endian layout both write and read.
#pragma once
#include <ATen/core/Tensor.h>

#include <optional>
#include <utility>

#include "onnx_proto.h"

namespace mqb {

// The ONNX element type of float32, int64, int32, int8 and uint8 tensors; nullopt for others.
std::optional<int> onnx_element_type(at::ScalarType t);

// Dims, element type and raw data of `t` (one of the types above) into `proto`.
void set_tensor_data(::onnx::TensorProto& proto, const at::Tensor& t);

// An initializer written as raw data, as an ATen tensor. ModelError for an element type
// onnx_element_type does not map or a size that does not match the shape.
at::Tensor tensor_of(const ::onnx::TensorProto& proto);

// [min, max] of a quantized element type: uint8 [0, 255], otherwise int8 [-128, 127].
std::pair<int64_t, int64_t> code_type_range(int onnx_type);

}  // namespace mqb
