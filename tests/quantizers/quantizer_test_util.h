// Helpers shared by the quantizer tests: creating quantizers through the registry
// (the real plugin loader) and small tensor utilities.
#pragma once
#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "mqb/fake_quantize.h"
#include "mqb/params.h"

namespace mqb::test {

// A quantizer by name with its observer, through Registry::instance().
std::shared_ptr<FakeQuantize> make_quantizer(const std::string& quantizer, const QScheme& scheme,
                                             const Params& fakeq_params = Params("fakeq_params"),
                                             const std::string& observer = "MinMaxObserver",
                                             const Params& observer_params = Params("observer_args"));
// JSON object {k: v} as Params (bool, integer, real, string).
Params params_from_json(const nlohmann::json& object, const std::string& path);
// A scheme for quick tests: bit, symmetric, per-channel (ch_axis 0).
QScheme scheme(int bit, bool symmetric, bool per_channel = false, bool symmetric_range = false);
// The learnable tensor called `name`, or an undefined tensor.
at::Tensor parameter(FakeQuantize& fq, const std::string& name);
// Clears the gradients of every learnable tensor.
void zero_grads(FakeQuantize& fq);

}  // namespace mqb::test
