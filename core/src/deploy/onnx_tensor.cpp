// ONNX initializers <-> ATen tensors (see onnx_tensor.h).
#include "onnx_tensor.h"

#include <ATen/ops/empty.h>

#include <cstring>
#include <string>
#include <vector>

#include "mqb/error.h"

namespace mqb {

namespace {

using ::onnx::TensorProto;

constexpr std::pair<at::ScalarType, int> kTypes[] = {{at::kFloat, TensorProto::FLOAT},
                                                     {at::kLong, TensorProto::INT64},
                                                     {at::kInt, TensorProto::INT32},
                                                     {at::kChar, TensorProto::INT8},
                                                     {at::kByte, TensorProto::UINT8}};

}  // namespace

std::optional<int> onnx_element_type(at::ScalarType t) {
  for (const auto& [aten, onnx] : kTypes)
    if (aten == t) return onnx;
  return std::nullopt;
}

void set_tensor_data(TensorProto& proto, const at::Tensor& t_in) {
  const at::Tensor t = t_in.contiguous();
  const auto type = onnx_element_type(t.scalar_type());
  if (!type) throw ModelError(std::string("ONNX export: no ONNX element type for ") + c10::toString(t.scalar_type()));
  for (int64_t d : t.sizes()) proto.add_dims(d);
  proto.set_data_type(*type);
  proto.set_raw_data(std::string(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size()));
}

at::Tensor tensor_of(const TensorProto& proto) {
  std::optional<at::ScalarType> type;
  for (const auto& [aten, onnx] : kTypes)
    if (onnx == proto.data_type()) type = aten;
  if (!type)
    throw ModelError("ONNX initializer '" + proto.name() + "': element type " + std::to_string(proto.data_type()) +
                     " is not handled");
  const std::vector<int64_t> dims(proto.dims().begin(), proto.dims().end());
  at::Tensor out = at::empty(dims, at::TensorOptions().dtype(*type));
  const size_t bytes = static_cast<size_t>(out.numel()) * out.element_size();
  if (proto.raw_data().size() != bytes)
    throw ModelError("ONNX initializer '" + proto.name() + "' holds " + std::to_string(proto.raw_data().size()) +
                     " bytes, its shape needs " + std::to_string(bytes));
  if (bytes) std::memcpy(out.data_ptr(), proto.raw_data().data(), bytes);
  return out;
}

std::pair<int64_t, int64_t> code_type_range(int onnx_type) {
  return onnx_type == TensorProto::UINT8 ? std::pair<int64_t, int64_t>{0, 255} : std::pair<int64_t, int64_t>{-128, 127};
}

}  // namespace mqb
