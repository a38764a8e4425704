// Fast statistics kernels of the observer helper layer: one pass over a float32
// tensor in its natural memory layout (no transpose copy), per-tensor or
// per-channel on any axis, parallel over fixed-size chunks (so results do not
// depend on the thread count). Every kernel refuses NaN/Inf data with a DataError
// naming the observer: calibration statistics of non-finite data are meaningless
// and would otherwise end up as a silent NaN or infinite scale.
#pragma once
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "mqb/tensor_types.h"

namespace mqb {

// A tensor seen as [outer, channels, inner] around the channel axis; per-tensor is
// channels = 1 (outer = 1, inner = numel).
struct ChannelLayout {
  int64_t outer = 1;
  int64_t channels = 1;
  int64_t inner = 1;
  int64_t numel() const { return outer * channels * inner; }
  int64_t per_channel() const { return outer * inner; }  // elements per channel
};
MQB_API ChannelLayout channel_layout(const at::Tensor& x, int ch_axis);

// Per-channel statistics (vectors of length `channels`).
struct ChannelStats {
  std::vector<float> min, max;
  std::vector<double> mean;      // only with kStatsMoments
  std::vector<double> m2;        // sum of squared deviations from the mean (kStatsMoments)
  std::vector<double> abs_mean;  // only with kStatsAbsMean
  int64_t count = 0;             // elements per channel
  // Unbiased standard deviation (NaN for a single element, as torch.std).
  double std_unbiased(size_t c) const {
    return count < 2 ? std::nan("") : std::sqrt(m2[c] / static_cast<double>(count - 1));
  }
};
enum StatsWanted : unsigned { kStatsMinMax = 0, kStatsMoments = 1, kStatsAbsMean = 2 };

// Min/max (always) plus the requested moments of x (float32, contiguous) per channel
// of `ch_axis` (-1: per-tensor). Sums are accumulated in double. Throws DataError
// naming `who` when x holds NaN or Inf.
MQB_API ChannelStats channel_stats(const at::Tensor& x, int ch_axis, unsigned wanted, const std::string& who);

// Histogram of |x| per channel with `bins` equal bins over [0, range[c]], binned
// exactly as torch.histc (CPU, linear interpolation) does it: bin =
// int((|x| * bins) / range) in float32, the right edge belongs to the last bin.
// A zero range uses torch.histc's fallback edges [-1, 1]. Result: row-major [C][bins].
MQB_API std::vector<int64_t> abs_histogram(const at::Tensor& x, int ch_axis, int64_t bins,
                                           const std::vector<float>& range);

// One fake-quantization candidate: (scale, zero_point) for a channel.
struct QuantCandidate {
  float scale;
  int32_t zero_point;
};

// Sum over each channel's elements of |fq(x) - x|^p for every candidate of that
// channel, where fq is ATen's fake_quantize_per_tensor_affine arithmetic
// (mqb/fake_quant_math.h). candidates is row-major [C][K]; the result is [C][K]
// (double sums). The data is read once: every candidate is evaluated per cache block.
MQB_API std::vector<double> candidate_losses(const at::Tensor& x, int ch_axis,
                                             const std::vector<QuantCandidate>& candidates, int64_t K,
                                             int64_t quant_min, int64_t quant_max, double p);

// Vitis-AI power-of-two search losses (MQBench's MinMaxFloor/PoTMode): for each
// channel c and its K exponents e (row-major [C][K]), step d = 2^-e, the sum over the
// channel's elements of (xh - x)^2 where
// method 3 (parameters): xh = d * clamp(round_half_even(x / d), qmin, qmax);
// method 2 (activations): t = clamp(x / d, qmin, qmax), t = ceil(t) for negative
// exact halves else round_half_even(t), xh = d * t.
MQB_API std::vector<double> pot_candidate_losses(const at::Tensor& x, int ch_axis,
                                                 const std::vector<int64_t>& exponents, int64_t K, int method,
                                                 int64_t quant_min, int64_t quant_max);

}  // namespace mqb
