// Small value types shared by the plugin interfaces.
#pragma once
#include <ATen/core/Tensor.h>

#include <map>
#include <string>

#include "mqb/error.h"
#include <utility>
#include <vector>

namespace mqb {

// Named tensors that make up an object's saveable state. Every piece of state,
// counters and flags included, is a tensor so that save/load is one uniform,
// bit-exact mechanism.
using StateDict = std::map<std::string, at::Tensor>;
using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

// (scale, zero_point) as MQBench returns them: scale float32, zero point int32
// for the affine observers (float32 where MQBench keeps a float, e.g. LSQ).
// Per-tensor results are 1-element tensors, per-channel ones vectors.
struct QParams {
  at::Tensor scale;
  at::Tensor zero_point;
};

// Vitis quantizers choose their search method by the kind of tensor they see.
enum class QuantType { Unset = 0, Input = 1, Param = 2, Tensor = 3 };
MQB_API const char* to_string(QuantType t);

}  // namespace mqb
