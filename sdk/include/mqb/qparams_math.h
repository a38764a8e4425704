// Shared quantization math of the SDK helper layer: every observer and quantizer
// calls these instead of re-deriving them, so MQBench's exact arithmetic lives once.
#pragma once
#include "mqb/qscheme.h"
#include "mqb/tensor_types.h"

namespace mqb {

// float32 machine epsilon, torch's observer `eps` buffer (2^-23).
inline constexpr float kObserverEps = 1.1920928955078125e-07f;

// torch's _ObserverBase._calculate_qparams (MQBench spec §0.4) for per-tensor 0-d or
// 1-element tensors and per-channel vectors, in float32 exactly as torch does it:
// symmetric s = max(-min(mn,0), max(mx,0)) / ((qmax-qmin)/2); affine
// s = (max(mx,0) - min(mn,0)) / (qmax-qmin), z = clamp(qmin - round(min/s)); s >= eps.
// Nothing observed (min=+inf, max=-inf, 0-d) gives (1.0, 0). min > max or NaN bounds
// throw DataError naming `who`. Zero point is int32; 0-d results become shape [1].
MQB_API QParams qparams_from_minmax(const at::Tensor& min_val, const at::Tensor& max_val,
                                    const QScheme& scheme, const std::string& who,
                                    float eps = kObserverEps);

// MQBench's pot_scale rounding: s = 2^round_half_even(log2 s), float32. The zero
// point is deliberately not recomputed (as in MQBench; see docs/differences).
MQB_API at::Tensor round_scale_to_pot(const at::Tensor& scale);

// Per-tensor (0-d) or per-channel (vector along `ch_axis`) minimum and maximum.
MQB_API std::pair<at::Tensor, at::Tensor> tensor_minmax(const at::Tensor& x, int ch_axis);

// The same arithmetic as qparams_from_minmax on one (min, max) pair, in scalar float32
// (identical results, no tensor overhead): used by searches over many candidates.
// Requires finite min <= max.
struct ScalarQParams {
  float scale;
  int32_t zero_point;
};
MQB_API ScalarQParams qparams_scalar(float min_val, float max_val, const QScheme& scheme,
                                     float eps = kObserverEps);

// MQBench's moving average v = v * r + cur * (1 - r) with both factors rounded to
// float32 and the two products rounded separately (torch's tensor arithmetic).
MQB_API float ema_scalar(float old_value, float current, double ratio);
MQB_API at::Tensor ema_update(const at::Tensor& old_value, const at::Tensor& current, double ratio);

// Per-channel float values as a tensor: 0-d when `per_channel` is false (one value).
MQB_API at::Tensor float_tensor(const std::vector<float>& values, bool per_channel);
MQB_API std::vector<float> to_float_vector(const at::Tensor& t);

// Moves `ch_axis` to dim 0 and flattens the rest: [C, N] (MQBench's per-channel layout).
MQB_API at::Tensor channels_first_2d(const at::Tensor& x, int ch_axis);

}  // namespace mqb
