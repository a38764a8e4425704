// Element-wise fake quantization exactly as ATen's CPU kernels compute it
// (fake_quantize_per_tensor_affine / _per_channel_affine, torch 1.13):
//   q = zp + nearbyint(x * inv_scale)       (float multiply, round half to even)
//   y = (clamp(q, qmin, qmax) - zp) * scale
//   gradient mask: qmin <= q <= qmax (q before clamping)
// Shared by every observer and quantizer that fake-quantizes, so the arithmetic
// that must match MQBench bit for bit lives in one place.
#pragma once
#include <cmath>
#include <cstdint>

namespace mqb {

struct AffineQuant {
  float scale;
  float inv_scale;  // 1.0f / scale, in float as ATen computes it
  float zero_point;
  float quant_min;
  float quant_max;

  AffineQuant(float s, int64_t zp, int64_t qmin, int64_t qmax)
      : scale(s), inv_scale(1.0f / s), zero_point(static_cast<float>(zp)),
        quant_min(static_cast<float>(qmin)), quant_max(static_cast<float>(qmax)) {}

  // The unclamped code (as a float, like ATen's qval_f).
  float code(float x) const { return zero_point + std::nearbyint(x * inv_scale); }
  float dequant(float q_clamped) const {
    return static_cast<float>(static_cast<double>(q_clamped - zero_point) * static_cast<double>(scale));
  }
  float operator()(float x) const { return dequant(std::fmin(std::fmax(code(x), quant_min), quant_max)); }
  bool in_range(float x) const {
    const float q = code(x);
    return quant_min <= q && q <= quant_max;
  }
};

}  // namespace mqb
