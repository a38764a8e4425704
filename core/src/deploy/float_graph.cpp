// The float model's ModelProto as the SDK's DeployGraph (see float_graph.h).
#define ONNX_NAMESPACE onnx
#define ONNX_ML 1
#include "float_graph.h"

#include <onnx/onnx_pb.h>

#include <cstring>

namespace mqb {

namespace {

// Element i of a raw little-endian buffer of T (the exporter writes raw_data).
template <typename T>
double raw_at(const std::string& raw, size_t i) {
  T v;
  std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
  return static_cast<double>(v);
}

// The values of a constant with at most kSmallConstant elements, from raw_data or the
// typed fields; an element type without a numeric reading gives no values.
std::vector<double> small_values(const ::onnx::TensorProto& t, int64_t numel) {
  std::vector<double> v;
  if (numel > static_cast<int64_t>(DeployInitializer::kSmallConstant)) return v;
  const size_t n = static_cast<size_t>(numel);
  const std::string& raw = t.raw_data();
  auto from_raw = [&](auto tag, size_t width) {
    if (raw.size() != n * width) return;
    for (size_t i = 0; i < n; ++i) v.push_back(raw_at<decltype(tag)>(raw, i));
  };
  switch (t.data_type()) {
    case ::onnx::TensorProto::FLOAT:
      if (!raw.empty()) from_raw(float{}, sizeof(float));
      else v.assign(t.float_data().begin(), t.float_data().end());
      break;
    case ::onnx::TensorProto::DOUBLE:
      if (!raw.empty()) from_raw(double{}, sizeof(double));
      else v.assign(t.double_data().begin(), t.double_data().end());
      break;
    case ::onnx::TensorProto::INT64:
      if (!raw.empty()) from_raw(int64_t{}, sizeof(int64_t));
      else for (int64_t x : t.int64_data()) v.push_back(static_cast<double>(x));
      break;
    case ::onnx::TensorProto::INT32:
      if (!raw.empty()) from_raw(int32_t{}, sizeof(int32_t));
      else for (int32_t x : t.int32_data()) v.push_back(static_cast<double>(x));
      break;
    case ::onnx::TensorProto::INT8:
      if (!raw.empty()) from_raw(int8_t{}, sizeof(int8_t));
      break;
    case ::onnx::TensorProto::UINT8:
      if (!raw.empty()) from_raw(uint8_t{}, sizeof(uint8_t));
      break;
    default:
      break;
  }
  return v;
}

}  // namespace

DeployGraph float_model_graph(const PreparedModel& model, const OnnxExportOptions& options,
                              std::set<std::string>* reached_sites) {
  const ::onnx::ModelProto m = float_onnx_model(model, options, reached_sites);
  const ::onnx::GraphProto& g = m.graph();
  DeployGraph out;
  for (const auto& n : g.node()) {
    DeployNode d;
    d.name = n.name();
    d.op_type = n.op_type();
    d.inputs.assign(n.input().begin(), n.input().end());
    d.outputs.assign(n.output().begin(), n.output().end());
    out.nodes.push_back(std::move(d));
  }
  for (const auto& t : g.initializer()) {
    DeployInitializer i;
    i.name = t.name();
    int64_t numel = 1;
    for (int64_t d : t.dims()) {
      i.shape.push_back(d);
      numel *= d;
    }
    i.values = small_values(t, numel);
    out.initializers.push_back(std::move(i));
  }
  for (const auto& v : g.input()) out.inputs.push_back(v.name());
  for (const auto& v : g.output()) out.outputs.push_back(v.name());
  return out;
}

}  // namespace mqb
