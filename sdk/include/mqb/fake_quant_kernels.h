// Fused fake-quantization kernels of the SDK helper layer: one pass over the tensor,
// at::parallel_for across cores, loops the compiler vectorises. Every quantizer that
// applies round-to-nearest affine fake quantization calls these, so the arithmetic
// that must equal ATen's bit for bit lives once.
//
// Semantics are exactly ATen's CPU kernels of torch 1.13 (MQBench spec §0.2, §0.3):
//   forward      q = int64(zp + nearbyint(x * (1/s)))   (float multiply, half to even)
//                y = (clamp(q, qmin, qmax) - zp) * s
//   STE backward dx = dy * [qmin <= q <= qmax]
//   learnable    backward of _fake_quantize_learnable_per_{tensor,channel}_affine:
//                q_b = nearbyint(zp_b + x/s); inside: ds = dy*(xfq - x)/s*g, dz = 0;
//                below/above: ds = dy*(qmin|qmax - zp_b)*g, dz = -dy*s*g
// ATen converts the code to int64 before clamping, so NaN, +-inf and |x/s| >= 2^63
// become INT64_MIN: they map to quant_min with a zero input gradient. The kernels
// reproduce that (documented in plugins/quantizers/README.md).
//
// Scale and zero point are tensors of one element (per-tensor, ch_axis < 0) or of
// x.size(ch_axis) elements. float32 tensors follow ATen bit for bit; float64 tensors
// (used by gradient checks) run the same formulas in double.
#pragma once
#include <ATen/core/Tensor.h>

#include <string>
#include <tuple>
#include <vector>

#include "mqb/error.h"

namespace mqb {

// ---- raw kernels (no autograd) ---------------------------------------------------

// y = fake_quantize(x) as ATen's fake_quantize_per_{tensor,channel}_affine.
MQB_API at::Tensor fq_affine_forward(const at::Tensor& x, const at::Tensor& scale,
                                     const at::Tensor& zero_point, int64_t quant_min,
                                     int64_t quant_max, int64_t ch_axis);
// dx = dy * mask, the mask recomputed from x in the same pass (no mask tensor kept).
MQB_API at::Tensor fq_affine_backward(const at::Tensor& dy, const at::Tensor& x,
                                      const at::Tensor& scale, const at::Tensor& zero_point,
                                      int64_t quant_min, int64_t quant_max, int64_t ch_axis);
// Per-tensor forward that also returns the straight-through mask packed one bit per
// element (uint8, ceil(n/8) bytes; bit j of byte i is element 8i+j), and the backward
// that reads it instead of x: dx = dy where the bit is set, else 0. Same results as
// fq_affine_forward / fq_affine_backward; the backward moves a third less memory.
MQB_API std::tuple<at::Tensor, at::Tensor> fq_affine_forward_with_mask(const at::Tensor& x,
                                                                       const at::Tensor& scale,
                                                                       const at::Tensor& zero_point,
                                                                       int64_t quant_min, int64_t quant_max);
MQB_API at::Tensor fq_affine_backward_from_mask(const at::Tensor& dy, const at::Tensor& mask);
// Forward of the learnable op: the float zero point is rounded half to even and
// clamped first (ATen's _get_zero_point_from_tensor(..., is_forward=true)).
MQB_API at::Tensor fq_learnable_forward(const at::Tensor& x, const at::Tensor& scale,
                                        const at::Tensor& zero_point, int64_t quant_min,
                                        int64_t quant_max, int64_t ch_axis);
// (dx, dscale, dzero_point) of the learnable op, dscale/dzero_point shaped like scale.
// Per-tensor uses zp_b = trunc(clamp(zp + 0.5)), per-channel round-half-even(zp)
// clamped, as ATen does. Sums are accumulated in double in a fixed order
// (deterministic for any thread count).
MQB_API std::tuple<at::Tensor, at::Tensor, at::Tensor> fq_learnable_backward(
    const at::Tensor& dy, const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero_point,
    int64_t quant_min, int64_t quant_max, int64_t ch_axis, double grad_factor);

// ---- autograd-aware ops ------------------------------------------------------------

// Plain fake quantization with the clipped straight-through gradient; scale and
// zero point are constants (no gradient), as torch.fake_quantize_per_*_affine.
MQB_API at::Tensor fake_quantize_affine(const at::Tensor& x, const at::Tensor& scale,
                                        const at::Tensor& zero_point, int64_t quant_min,
                                        int64_t quant_max, int64_t ch_axis);
// LSQ / LSQ+ fake quantization: gradients reach x, scale and zero_point (the float
// zero point tensor), scaled by grad_factor, as torch._fake_quantize_learnable_*.
MQB_API at::Tensor fake_quantize_learnable(const at::Tensor& x, const at::Tensor& scale,
                                           const at::Tensor& zero_point, int64_t quant_min,
                                           int64_t quant_max, int64_t ch_axis, double grad_factor);

// Returns `value` (computed without autograd) with a straight-through gradient to x:
// dx = dy, or dy where `mask` is true and 0 elsewhere when a bool mask is given.
MQB_API at::Tensor straight_through(const at::Tensor& x, const at::Tensor& value,
                                    const at::Tensor& mask = at::Tensor());

// ---- small helpers shared by the quantizer plugins -----------------------------------

// Shape [1,..,C,..,1] that broadcasts a per-channel vector along `ch_axis` of x.
MQB_API std::vector<int64_t> channel_view_shape(const at::Tensor& x, int64_t ch_axis);
// Throws DataError naming `who` unless x is a defined float32/float64 tensor that,
// for per-channel schemes (ch_axis >= 0), has the channel axis.
MQB_API void check_fake_quant_input(const at::Tensor& x, int64_t ch_axis, const std::string& who);

}  // namespace mqb
