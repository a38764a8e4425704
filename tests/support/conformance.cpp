// Loading shared/conformance/mqbench_ref_public.json (see conformance.h).
#include "support/conformance.h"

#include <gtest/gtest.h>

#include <ATen/ops/empty.h>
#include <cstdlib>
#include <fstream>

namespace mqb::test {

namespace {
double number(const nlohmann::json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "inf") return INFINITY;
    if (s == "-inf") return -INFINITY;
    if (s == "nan") return NAN;
    throw std::runtime_error("conformance: unexpected string value '" + s + "'");
  }
  return v.get<double>();
}
}  // namespace

const nlohmann::json& conformance() {
  static const nlohmann::json data = [] {
    const char* env = std::getenv("MQB_CONFORMANCE_JSON");
    const std::string path = env ? env : MQB_CONFORMANCE_JSON;
    std::ifstream in(path);
    if (!in) {
      ADD_FAILURE() << "conformance data not found at " << path
                    << " (expected shared/ beside the checkout, or set MQB_CONFORMANCE_JSON)";
      throw std::runtime_error("conformance data missing");
    }
    return nlohmann::json::parse(in);
  }();
  return data;
}

at::Tensor tensor_from_json(const nlohmann::json& r) {
  std::vector<int64_t> shape = r.at("shape").get<std::vector<int64_t>>();
  const std::string dtype = r.at("dtype").get<std::string>();
  const auto& values = r.at("values");
  at::ScalarType st = dtype == "float32" ? at::kFloat
                      : dtype == "float64" ? at::kDouble
                      : dtype == "int32"   ? at::kInt
                      : dtype == "int64"   ? at::kLong
                      : dtype == "uint8"   ? at::kByte
                      : dtype == "bool"    ? at::kBool
                                           : throw std::runtime_error("conformance: dtype " + dtype);
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(st));
  if (static_cast<size_t>(t.numel()) != values.size())
    throw std::runtime_error("conformance: value count does not match shape");
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = number(values[i]);
    switch (st) {
      case at::kFloat: t.data_ptr<float>()[i] = static_cast<float>(v); break;
      case at::kDouble: t.data_ptr<double>()[i] = v; break;
      case at::kInt: t.data_ptr<int32_t>()[i] = static_cast<int32_t>(v); break;
      case at::kLong: t.data_ptr<int64_t>()[i] = static_cast<int64_t>(v); break;
      case at::kByte: t.data_ptr<uint8_t>()[i] = static_cast<uint8_t>(v); break;
      default: t.data_ptr<bool>()[i] = v != 0; break;
    }
  }
  return t;
}

at::Tensor conformance_tensor(const std::string& id) { return tensor_from_json(conformance().at("tensors").at(id)); }

QScheme qscheme_from_json(const nlohmann::json& q) {
  QScheme s;
  s.bit = q.at("bit").get<int>();
  s.symmetric = q.at("symmetry").get<bool>();
  s.per_channel = q.at("per_channel").get<bool>();
  s.pot_scale = q.at("pot_scale").get<bool>();
  s.symmetric_range = q.at("symmetric_range").get<bool>();
  s.ch_axis = q.at("ch_axis").get<int>();
  return s;
}

std::vector<const nlohmann::json*> conformance_cases(const std::string& kind, const std::string& cls) {
  std::vector<const nlohmann::json*> out;
  for (const auto& c : conformance().at("cases"))
    if (c.at("kind") == kind && (cls.empty() || c.at("class") == cls)) out.push_back(&c);
  return out;
}

}  // namespace mqb::test
