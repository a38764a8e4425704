// QScheme: how one tensor is quantized (bit width, symmetry, granularity, power-of-two
// scales) and the integer range it implies, derived exactly as MQBench's
// QuantizeScheme.to_observer_params() does (asym [0, 2^b-1], sym [-2^(b-1), 2^(b-1)-1],
// symmetric_range [-2^(b-1)+1, 2^(b-1)-1]).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "mqb/error.h"

namespace mqb {

struct MQB_API QScheme {
  static constexpr int kMinBit = 2;
  static constexpr int kMaxBit = 16;

  int bit = 8;
  bool symmetric = true;
  bool per_channel = false;
  bool pot_scale = false;
  bool symmetric_range = false;
  int ch_axis = -1;  // -1 per-tensor; >= 0 for per-channel (default 0)
  // Explicit range, as MQBench lets `quant_min`/`quant_max` kwargs override the
  // derived one (OpenVINO's unsigned activations with a symmetric qscheme).
  std::optional<int64_t> quant_min_override;
  std::optional<int64_t> quant_max_override;

  int64_t quant_min() const;
  int64_t quant_max() const;
  // Throws ConfigError naming the field and what is accepted.
  void validate() const;
  // Conformance-style name, e.g. "b8_sym_range_pc_pot".
  std::string name() const;
  // One line for humans: "8-bit symmetric per-channel(axis 0) [-127, 127]".
  std::string describe() const;
  bool operator==(const QScheme& o) const;
};

}  // namespace mqb
