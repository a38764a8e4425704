// Access to MQBench's own reference results (shared/conformance) for the tests:
// the JSON is parsed once; tensors come back as at::Tensor with their exact values.
#pragma once
#include <nlohmann/json.hpp>

#include "mqb/qscheme.h"
#include "mqb/tensor_types.h"

namespace mqb::test {

// The parsed file. Fails the calling test (ADD_FAILURE + throw) when it is missing.
const nlohmann::json& conformance();
// A tensor record {"shape", "dtype", "values"} as an at::Tensor (float32/int32/int64/uint8/bool).
at::Tensor tensor_from_json(const nlohmann::json& record);
// An input or gradient tensor by id from the "tensors" table.
at::Tensor conformance_tensor(const std::string& id);
// The case's qscheme record as our QScheme (range checked against our derivation by the caller).
QScheme qscheme_from_json(const nlohmann::json& q);
// Every case of `kind` ("observer" or "fake_quantize"), optionally of one class.
std::vector<const nlohmann::json*> conformance_cases(const std::string& kind, const std::string& cls = "");

}  // namespace mqb::test
