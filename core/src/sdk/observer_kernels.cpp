// Observer statistics kernels (see mqb/observer_kernels.h). The data is visited in
// fixed chunks of kChunk elements; each chunk is split into runs of one channel
// (contiguous memory) and reduced with SSE2 vector code; chunk partials are merged
// in chunk order, so results are independent of the number of threads.
#include "mqb/observer_kernels.h"

#include <emmintrin.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "mqb/error.h"

namespace mqb {

namespace {

constexpr int64_t kChunk = int64_t{1} << 16;

int64_t num_chunks(int64_t n) { return (n + kChunk - 1) / kChunk; }

// Calls f(channel, begin, end) for every maximal single-channel run inside [begin, end).
template <class F>
void for_each_run(const ChannelLayout& L, int64_t begin, int64_t end, F&& f) {
  int64_t i = begin;
  while (i < end) {
    const int64_t block = i / L.inner;
    const int64_t run_end = std::min(end, (block + 1) * L.inner);
    f(block % L.channels, i, run_end);
    i = run_end;
  }
}

// Min and max of p[0..n) with NaN detection (SSE2, 8 lanes in flight).
void minmax_run(const float* p, int64_t n, float& mn, float& mx, bool& bad) {
  int64_t i = 0;
  __m128 mn0 = _mm_set1_ps(mn), mn1 = mn0, mx0 = _mm_set1_ps(mx), mx1 = mx0;
  __m128 nan_acc = _mm_setzero_ps();
  for (; i + 8 <= n; i += 8) {
    const __m128 a = _mm_loadu_ps(p + i), b = _mm_loadu_ps(p + i + 4);
    mn0 = _mm_min_ps(mn0, a);
    mn1 = _mm_min_ps(mn1, b);
    mx0 = _mm_max_ps(mx0, a);
    mx1 = _mm_max_ps(mx1, b);
    nan_acc = _mm_or_ps(nan_acc, _mm_or_ps(_mm_cmpunord_ps(a, a), _mm_cmpunord_ps(b, b)));
  }
  alignas(16) float lo[4], hi[4];
  _mm_store_ps(lo, _mm_min_ps(mn0, mn1));
  _mm_store_ps(hi, _mm_max_ps(mx0, mx1));
  bad = bad || _mm_movemask_ps(nan_acc) != 0;
  for (int k = 0; k < 4; ++k) {
    mn = std::min(mn, lo[k]);
    mx = std::max(mx, hi[k]);
  }
  for (; i < n; ++i) {
    const float v = p[i];
    if (v != v) bad = true;
    mn = std::min(mn, v);
    mx = std::max(mx, v);
  }
}

// Running (n, mean, M2, |x| sum) with Chan's merge; one run is reduced around its
// first value (shifted sums in double keep the variance accurate).
struct Moments {
  double n = 0, mean = 0, m2 = 0, abs_sum = 0;
  void merge(double nb, double mean_b, double m2_b, double abs_b) {
    if (nb == 0) return;
    if (n == 0) {
      n = nb, mean = mean_b, m2 = m2_b, abs_sum = abs_b;
      return;
    }
    const double tot = n + nb, delta = mean_b - mean;
    mean += delta * nb / tot;
    m2 += m2_b + delta * delta * n * nb / tot;
    n = tot;
    abs_sum += abs_b;
  }
};

void moments_run(const float* p, int64_t n, Moments& m) {
  const double k = p[0];
  double s1 = 0, s2 = 0, sa = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(p[i]) - k;
    s1 += d;
    s2 += d * d;
    sa += std::fabs(static_cast<double>(p[i]));
  }
  const double dn = static_cast<double>(n);
  m.merge(dn, k + s1 / dn, std::max(0.0, s2 - s1 * s1 / dn), sa);
}

void check_float_contiguous(const at::Tensor& x) {
  if (x.scalar_type() != at::kFloat || !x.is_contiguous())
    throw DataError("internal: observer kernels need a contiguous float32 tensor");
}

[[noreturn]] void non_finite(const std::string& who) {
  throw DataError(who + ": the calibration tensor holds NaN or Inf values; observers need finite "
                        "data (clean the input, or mask non-finite values before observing)");
}

}  // namespace

ChannelLayout channel_layout(const at::Tensor& x, int ch_axis) {
  ChannelLayout L;
  if (ch_axis < 0) {
    L.inner = x.numel();
    return L;
  }
  if (ch_axis >= x.dim())
    throw DataError("per-channel axis " + std::to_string(ch_axis) + " does not exist in a tensor of " +
                    std::to_string(x.dim()) + " dims");
  for (int d = 0; d < ch_axis; ++d) L.outer *= x.size(d);
  L.channels = x.size(ch_axis);
  for (int64_t d = ch_axis + 1; d < x.dim(); ++d) L.inner *= x.size(d);
  return L;
}


ChannelStats channel_stats(const at::Tensor& x, int ch_axis, unsigned wanted, const std::string& who) {
  check_float_contiguous(x);
  const ChannelLayout L = channel_layout(x, ch_axis);
  const int64_t C = L.channels, N = L.numel();
  ChannelStats out;
  out.count = L.per_channel();
  out.min.assign(C, INFINITY);
  out.max.assign(C, -INFINITY);
  if (N == 0) return out;
  const float* data = x.data_ptr<float>();
  const bool moments = (wanted & (kStatsMoments | kStatsAbsMean)) != 0;
  const int64_t chunks = num_chunks(N);
  std::vector<float> pmin(chunks * C, INFINITY), pmax(chunks * C, -INFINITY);
  std::vector<Moments> pmom(moments ? chunks * C : 0);
  std::vector<char> pbad(chunks, 0);
  at::parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t k = cb; k < ce; ++k) {
      bool bad = false;
      float* mn = &pmin[k * C];
      float* mx = &pmax[k * C];
      const int64_t begin = k * kChunk, end = std::min(N, begin + kChunk);
      if (!moments && L.inner < 16 && C > 1 && C * L.inner <= 4096) {
        // Short runs (channel axis at or near the end): fold whole rows element-wise.
        const int64_t row = C * L.inner;
        for (int64_t i = begin; i < end; ++i) {
          const float v = data[i];
          const int64_t c = (i % row) / L.inner;
          if (v != v) bad = true;
          mn[c] = std::min(mn[c], v);
          mx[c] = std::max(mx[c], v);
        }
      } else {
        for_each_run(L, begin, end, [&](int64_t c, int64_t b, int64_t e) {
          minmax_run(data + b, e - b, mn[c], mx[c], bad);
          if (moments) moments_run(data + b, e - b, pmom[k * C + c]);
        });
      }
      pbad[k] = bad;
    }
  });
  if (moments) {
    out.mean.assign(C, 0.0);
    out.m2.assign(C, 0.0);
    out.abs_mean.assign(C, 0.0);
  }
  for (int64_t k = 0; k < chunks; ++k) {
    if (pbad[k]) non_finite(who);
    for (int64_t c = 0; c < C; ++c) {
      out.min[c] = std::min(out.min[c], pmin[k * C + c]);
      out.max[c] = std::max(out.max[c], pmax[k * C + c]);
    }
  }
  for (int64_t c = 0; c < C; ++c)
    if (!std::isfinite(out.min[c]) || !std::isfinite(out.max[c])) non_finite(who);
  if (moments) {
    for (int64_t c = 0; c < C; ++c) {
      Moments m;
      for (int64_t k = 0; k < chunks; ++k) {
        const Moments& b = pmom[k * C + c];
        m.merge(b.n, b.mean, b.m2, b.abs_sum);
      }
      out.mean[c] = m.mean;
      out.m2[c] = m.m2;
      out.abs_mean[c] = m.n > 0 ? m.abs_sum / m.n : 0.0;
    }
  }
  return out;
}

std::vector<int64_t> abs_histogram(const at::Tensor& x, int ch_axis, int64_t bins,
                                   const std::vector<float>& range) {
  check_float_contiguous(x);
  const ChannelLayout L = channel_layout(x, ch_axis);
  const int64_t C = L.channels, N = L.numel();
  std::vector<float> left(C), right(C);
  for (int64_t c = 0; c < C; ++c) {
    left[c] = 0.0f;
    right[c] = range[c];
    if (right[c] == left[c]) left[c] = -1.0f, right[c] = 1.0f;  // torch.histc's fallback edges
  }
  const float fbins = static_cast<float>(bins);
  const int64_t chunks = num_chunks(N);
  std::vector<int64_t> partial(chunks * C * bins, 0);
  at::parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t k = cb; k < ce; ++k) {
      int64_t* h = &partial[k * C * bins];
      const int64_t begin = k * kChunk, end = std::min(N, begin + kChunk);
      for_each_run(L, begin, end, [&](int64_t c, int64_t b, int64_t e) {
        const float lo = left[c], hi = right[c], width = hi - lo;
        int64_t* hc = h + c * bins;
        const float* p = x.data_ptr<float>();
        for (int64_t i = b; i < e; ++i) {
          const float a = std::fabs(p[i]);
          if (!(a >= lo && a <= hi)) continue;
          int64_t pos = static_cast<int64_t>((a - lo) * fbins / width);
          if (pos == bins) pos -= 1;
          ++hc[pos];
        }
      });
    }
  });
  std::vector<int64_t> out(C * bins, 0);
  for (int64_t k = 0; k < chunks; ++k)
    for (int64_t j = 0; j < C * bins; ++j) out[j] += partial[k * C * bins + j];
  return out;
}

std::vector<double> signed_histogram(const at::Tensor& x, int ch_axis, int64_t bins, const std::vector<float>& lo,
                                     const std::vector<float>& hi) {
  check_float_contiguous(x);
  const ChannelLayout L = channel_layout(x, ch_axis);
  const int64_t C = L.channels, N = L.numel();
  const int64_t chunks = num_chunks(N);
  std::vector<double> partial(chunks * C * bins, 0.0);
  at::parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t k = cb; k < ce; ++k) {
      double* h = &partial[k * C * bins];
      const int64_t begin = k * kChunk, end = std::min(N, begin + kChunk);
      for_each_run(L, begin, end, [&](int64_t c, int64_t b, int64_t e) {
        const double l = lo[c], width = static_cast<double>(hi[c]) - l;
        const double inv = width > 0 ? static_cast<double>(bins) / width : 0.0;
        double* hc = h + c * bins;
        const float* p = x.data_ptr<float>();
        for (int64_t i = b; i < e; ++i) {
          int64_t pos = static_cast<int64_t>((static_cast<double>(p[i]) - l) * inv);
          pos = std::min(std::max<int64_t>(pos, 0), bins - 1);
          hc[pos] += 1.0;
        }
      });
    }
  });
  std::vector<double> out(C * bins, 0.0);
  for (int64_t k = 0; k < chunks; ++k)
    for (int64_t j = 0; j < C * bins; ++j) out[j] += partial[k * C * bins + j];
  return out;
}

namespace {

// Sum of |fq(x) - x|^2 over p[0..n) for one candidate, SSE2. fq follows ATen:
// v = x * inv_scale; q = clamp(zp + nearbyint(v), qmin, qmax); y = (q - zp) * scale.
// Clamping v to [qmin - zp, qmax - zp] before rounding gives the same q (the bounds
// are integers) and keeps v small enough for the 1.5 * 2^23 round-to-even trick.
double sq_loss_run(const float* p, int64_t n, const QuantCandidate& q, float qmin, float qmax) {
  const float inv = 1.0f / q.scale;
  const float zp = static_cast<float>(q.zero_point);
  const float lo = qmin - zp, hi = qmax - zp;
  const float magic = 12582912.0f;  // 1.5 * 2^23
  const __m128 vinv = _mm_set1_ps(inv), vlo = _mm_set1_ps(lo), vhi = _mm_set1_ps(hi), vs = _mm_set1_ps(q.scale),
               vm = _mm_set1_ps(magic);
  __m128d acc0 = _mm_setzero_pd(), acc1 = _mm_setzero_pd();
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m128 x = _mm_loadu_ps(p + i);
    __m128 v = _mm_mul_ps(x, vinv);
    v = _mm_min_ps(_mm_max_ps(v, vlo), vhi);
    const __m128 r = _mm_sub_ps(_mm_add_ps(v, vm), vm);
    const __m128 d = _mm_sub_ps(_mm_mul_ps(r, vs), x);
    const __m128 d2 = _mm_mul_ps(d, d);
    acc0 = _mm_add_pd(acc0, _mm_cvtps_pd(d2));
    acc1 = _mm_add_pd(acc1, _mm_cvtps_pd(_mm_movehl_ps(d2, d2)));
  }
  alignas(16) double s[2];
  _mm_store_pd(s, _mm_add_pd(acc0, acc1));
  double total = s[0] + s[1];
  for (; i < n; ++i) {
    float v = p[i] * inv;
    v = std::min(std::max(v, lo), hi);
    const float r = (v + magic) - magic;
    const float d = r * q.scale - p[i];
    total += static_cast<double>(d * d);
  }
  return total;
}

double p_loss_run(const float* p, int64_t n, const QuantCandidate& q, float qmin, float qmax, double pw) {
  const float inv = 1.0f / q.scale;
  const float zp = static_cast<float>(q.zero_point);
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float code = std::fmin(std::fmax(zp + std::nearbyint(p[i] * inv), qmin), qmax);
    const float y = (code - zp) * q.scale;
    total += static_cast<double>(std::pow(std::fabs(y - p[i]), static_cast<float>(pw)));
  }
  return total;
}

}  // namespace

std::vector<double> candidate_losses(const at::Tensor& x, int ch_axis, const std::vector<QuantCandidate>& cand,
                                     int64_t K, int64_t quant_min, int64_t quant_max, double p) {
  check_float_contiguous(x);
  const ChannelLayout L = channel_layout(x, ch_axis);
  const int64_t C = L.channels, N = L.numel();
  const float qmin = static_cast<float>(quant_min), qmax = static_cast<float>(quant_max);
  const bool square = p == 2.0;
  // Blocks small enough to stay in L1/L2 while every candidate runs over them.
  constexpr int64_t kBlock = 4096;
  const int64_t blocks = (N + kBlock - 1) / kBlock;
  const int64_t chunks = num_chunks(N);
  const int64_t blocks_per_chunk = kChunk / kBlock;
  std::vector<double> partial(chunks * C * K, 0.0);
  const float* data = x.data_ptr<float>();
  at::parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t k = cb; k < ce; ++k) {
      double* acc = &partial[k * C * K];
      for (int64_t blk = k * blocks_per_chunk; blk < std::min(blocks, (k + 1) * blocks_per_chunk); ++blk) {
        const int64_t begin = blk * kBlock, end = std::min(N, begin + kBlock);
        for_each_run(L, begin, end, [&](int64_t c, int64_t b, int64_t e) {
          for (int64_t j = 0; j < K; ++j) {
            const QuantCandidate& q = cand[c * K + j];
            acc[c * K + j] += square ? sq_loss_run(data + b, e - b, q, qmin, qmax)
                                     : p_loss_run(data + b, e - b, q, qmin, qmax, p);
          }
        });
      }
    }
  });
  std::vector<double> out(C * K, 0.0);
  for (int64_t k = 0; k < chunks; ++k)
    for (int64_t j = 0; j < C * K; ++j) out[j] += partial[k * C * K + j];
  return out;
}

}  // namespace mqb

namespace mqb {

std::vector<double> pot_candidate_losses(const at::Tensor& x, const std::vector<int64_t>& exponents, int method,
                                         int64_t quant_min, int64_t quant_max) {
  check_float_contiguous(x);
  const int64_t N = x.numel(), K = static_cast<int64_t>(exponents.size());
  const float qmin = static_cast<float>(quant_min), qmax = static_cast<float>(quant_max);
  std::vector<float> steps(K);
  for (int64_t j = 0; j < K; ++j) steps[j] = static_cast<float>(1.0 / std::ldexp(1.0, static_cast<int>(exponents[j])));
  const int64_t chunks = num_chunks(N);
  std::vector<double> partial(chunks * K, 0.0);
  const float* data = x.data_ptr<float>();
  at::parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t k = cb; k < ce; ++k) {
      const int64_t begin = k * kChunk, end = std::min(N, begin + kChunk);
      for (int64_t j = 0; j < K; ++j) {
        const float d = steps[j];
        double acc = 0;
        for (int64_t i = begin; i < end; ++i) {
          const float v = data[i];
          float t;
          if (method == 3) {
            t = std::fmin(std::fmax(std::nearbyint(v / d), qmin), qmax);
          } else {
            t = std::fmin(std::fmax(v / d, qmin), qmax);
            t = (t < 0 && t - std::floor(t) == 0.5f) ? std::ceil(t) : std::nearbyint(t);
          }
          const float e = d * t - v;
          acc += static_cast<double>(e * e);
        }
        partial[k * K + j] = acc;
      }
    }
  });
  std::vector<double> out(K, 0.0);
  for (int64_t k = 0; k < chunks; ++k)
    for (int64_t j = 0; j < K; ++j) out[j] += partial[k * K + j];
  return out;
}

}  // namespace mqb
