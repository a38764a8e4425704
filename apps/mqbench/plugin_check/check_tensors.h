// Inputs and comparisons shared by the observer, quantizer and backend checks.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>

#include "mqb/qscheme.h"
#include "mqb/tensor_types.h"

namespace mqb::check {

// The schemes every observer and quantizer is checked under (8-bit affine per-tensor,
// symmetric per-tensor, symmetric per-channel on axis 0). A plugin may refuse some
// (with mqb::Error); their checks are then skipped.
struct NamedScheme {
  std::string name;  // "per_tensor" | "per_tensor_symmetric" | "per_channel"
  QScheme scheme;
};
std::vector<NamedScheme> checked_schemes();

// A deterministic activation-like batch [16, 8, 6, 6]: normal data, channel (dim 0) k
// scaled by 0.5 + k / 6 and shifted by 0.3, so per-channel ranges differ.
at::Tensor sample_batch(uint64_t seed, int index);
// Same shape, standard normal (directions, upstream gradients).
at::Tensor normal_like(const at::Tensor& like, uint64_t seed);

// "" when a and b are bit-identical (shape, dtype, values, NaN where NaN), else why not.
std::string bit_difference(const at::Tensor& a, const at::Tensor& b);
std::string state_difference(const StateDict& a, const StateDict& b);

// "" when (scale, zero_point) is usable for `scheme` with `channels` values
// (1 per-tensor): finite scale > 0, zero point (rounded) within [quant_min, quant_max].
std::string qparams_problem(const QParams& q, const QScheme& scheme, int64_t channels);

// Short text of a tensor's first values for messages.
std::string preview(const at::Tensor& t);

}  // namespace mqb::check
