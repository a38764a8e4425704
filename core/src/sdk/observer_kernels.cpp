// Observer statistics kernels (see mqb/observer_kernels.h). The data is visited in
// fixed chunks of kChunk elements; each chunk is split into runs of one channel
// (contiguous memory) and reduced with SSE2 vector code; chunk partials are merged
// in chunk order, so results are independent of the number of threads.
#include "mqb/observer_kernels.h"

#include <immintrin.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "mqb/error.h"

// GCC 12's AVX-512 helper intrinsics (casts, reductions) start from an undefined
// register and trip -Wuninitialized inside its own headers: not our code.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

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

// Min and max of p[0..n) with NaN detection. The widest instruction set the CPU
// has is chosen at run time (the library itself is built for baseline x86-64).
void minmax_tail(const float* p, int64_t i, int64_t n, float& mn, float& mx, bool& bad) {
  for (; i < n; ++i) {
    const float v = p[i];
    if (v != v) bad = true;
    mn = std::min(mn, v);
    mx = std::max(mx, v);
  }
}

__attribute__((target("avx512f"))) void minmax_run_avx512(const float* p, int64_t n, float& mn, float& mx,
                                                           bool& bad) {
  int64_t i = 0;
  __m512 mn0 = _mm512_set1_ps(mn), mn1 = mn0, mx0 = _mm512_set1_ps(mx), mx1 = mx0;
  __mmask16 nan_mask = 0;
  for (; i + 32 <= n; i += 32) {
    const __m512 a = _mm512_loadu_ps(p + i), b = _mm512_loadu_ps(p + i + 16);
    mn0 = _mm512_min_ps(mn0, a);
    mn1 = _mm512_min_ps(mn1, b);
    mx0 = _mm512_max_ps(mx0, a);
    mx1 = _mm512_max_ps(mx1, b);
    nan_mask |= _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q);
  }
  bad = bad || nan_mask != 0;
  mn = std::min(mn, _mm512_reduce_min_ps(_mm512_min_ps(mn0, mn1)));
  mx = std::max(mx, _mm512_reduce_max_ps(_mm512_max_ps(mx0, mx1)));
  minmax_tail(p, i, n, mn, mx, bad);
}

__attribute__((target("avx2"))) void minmax_run_avx2(const float* p, int64_t n, float& mn, float& mx, bool& bad) {
  int64_t i = 0;
  __m256 mn0 = _mm256_set1_ps(mn), mn1 = mn0, mx0 = _mm256_set1_ps(mx), mx1 = mx0;
  __m256 nan_acc = _mm256_setzero_ps();
  for (; i + 16 <= n; i += 16) {
    const __m256 a = _mm256_loadu_ps(p + i), b = _mm256_loadu_ps(p + i + 8);
    mn0 = _mm256_min_ps(mn0, a);
    mn1 = _mm256_min_ps(mn1, b);
    mx0 = _mm256_max_ps(mx0, a);
    mx1 = _mm256_max_ps(mx1, b);
    nan_acc = _mm256_or_ps(nan_acc, _mm256_cmp_ps(a, b, _CMP_UNORD_Q));
  }
  alignas(32) float lo[8], hi[8];
  _mm256_store_ps(lo, _mm256_min_ps(mn0, mn1));
  _mm256_store_ps(hi, _mm256_max_ps(mx0, mx1));
  bad = bad || _mm256_movemask_ps(nan_acc) != 0;
  for (int k = 0; k < 8; ++k) mn = std::min(mn, lo[k]), mx = std::max(mx, hi[k]);
  minmax_tail(p, i, n, mn, mx, bad);
}

void minmax_run_sse2(const float* p, int64_t n, float& mn, float& mx, bool& bad) {
  int64_t i = 0;
  __m128 mn0 = _mm_set1_ps(mn), mn1 = mn0, mx0 = _mm_set1_ps(mx), mx1 = mx0;
  __m128 nan_acc = _mm_setzero_ps();
  for (; i + 8 <= n; i += 8) {
    const __m128 a = _mm_loadu_ps(p + i), b = _mm_loadu_ps(p + i + 4);
    mn0 = _mm_min_ps(mn0, a);
    mn1 = _mm_min_ps(mn1, b);
    mx0 = _mm_max_ps(mx0, a);
    mx1 = _mm_max_ps(mx1, b);
    nan_acc = _mm_or_ps(nan_acc, _mm_cmpunord_ps(a, b));
  }
  alignas(16) float lo[4], hi[4];
  _mm_store_ps(lo, _mm_min_ps(mn0, mn1));
  _mm_store_ps(hi, _mm_max_ps(mx0, mx1));
  bad = bad || _mm_movemask_ps(nan_acc) != 0;
  for (int k = 0; k < 4; ++k) mn = std::min(mn, lo[k]), mx = std::max(mx, hi[k]);
  minmax_tail(p, i, n, mn, mx, bad);
}

enum class Isa { Sse2, Avx2, Avx512 };
Isa cpu_isa() {
  static const Isa isa = __builtin_cpu_supports("avx512f") ? Isa::Avx512
                         : __builtin_cpu_supports("avx2")  ? Isa::Avx2
                                                           : Isa::Sse2;
  return isa;
}

void minmax_run(const float* p, int64_t n, float& mn, float& mx, bool& bad) {
  switch (cpu_isa()) {
    case Isa::Avx512: return minmax_run_avx512(p, n, mn, mx, bad);
    case Isa::Avx2: return minmax_run_avx2(p, n, mn, mx, bad);
    default: return minmax_run_sse2(p, n, mn, mx, bad);
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

namespace {

// torch.histc's bin of |x| (CPU, linear interpolation): int((|x| - lo) * bins / (hi - lo))
// in float32, elements outside [lo, hi] skipped, the right edge in the last bin.
void hist_tail(const float* p, int64_t i, int64_t n, float lo, float hi, float fbins, int64_t bins, int64_t* hc) {
  const float width = hi - lo;
  for (; i < n; ++i) {
    const float a = std::fabs(p[i]);
    if (!(a >= lo && a <= hi)) continue;
    int64_t pos = static_cast<int64_t>((a - lo) * fbins / width);
    if (pos == bins) pos -= 1;
    ++hc[pos];
  }
}

// The same bins, computed 8 at a time (IEEE division and truncation as the scalar code).
__attribute__((target("avx2"))) void hist_avx2(const float* p, int64_t n, float lo, float hi, float fbins,
                                                int64_t bins, int64_t* hc) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi), vb = _mm256_set1_ps(fbins),
               vw = _mm256_set1_ps(hi - lo), sign = _mm256_set1_ps(-0.0f);
  alignas(32) int32_t idx[8];
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 a = _mm256_andnot_ps(sign, _mm256_loadu_ps(p + i));
    const __m256 ok = _mm256_and_ps(_mm256_cmp_ps(a, vlo, _CMP_GE_OQ), _mm256_cmp_ps(a, vhi, _CMP_LE_OQ));
    const __m256 t = _mm256_div_ps(_mm256_mul_ps(_mm256_sub_ps(a, vlo), vb), vw);
    _mm256_store_si256(reinterpret_cast<__m256i*>(idx), _mm256_cvttps_epi32(t));
    const int mask = _mm256_movemask_ps(ok);
    for (int k = 0; k < 8; ++k) {
      if (!((mask >> k) & 1)) continue;
      const int64_t q = idx[k] == bins ? bins - 1 : idx[k];
      ++hc[q];
    }
  }
  hist_tail(p, i, n, lo, hi, fbins, bins, hc);
}

void hist_run(const float* p, int64_t n, float lo, float hi, float fbins, int64_t bins, int64_t* hc) {
  if (cpu_isa() != Isa::Sse2) return hist_avx2(p, n, lo, hi, fbins, bins, hc);
  hist_tail(p, 0, n, lo, hi, fbins, bins, hc);
}

}  // namespace

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
  // Counts are exact integers, so per-thread partials (not per-chunk) keep memory small.
  const int64_t threads = std::max<int64_t>(1, at::get_num_threads());
  std::vector<int64_t> partial(threads * C * bins, 0);
  const float* p = x.data_ptr<float>();
  at::parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    int64_t* h = &partial[std::min<int64_t>(at::get_thread_num(), threads - 1) * C * bins];
    for (int64_t k = cb; k < ce; ++k) {
      const int64_t begin = k * kChunk, end = std::min(N, begin + kChunk);
      for_each_run(L, begin, end, [&](int64_t c, int64_t b, int64_t e) {
        hist_run(p + b, e - b, left[c], right[c], fbins, bins, h + c * bins);
      });
    }
  });
  std::vector<int64_t> out(C * bins, 0);
  for (int64_t t = 0; t < threads; ++t)
    for (int64_t j = 0; j < C * bins; ++j) out[j] += partial[t * C * bins + j];
  return out;
}

namespace {

// Sum of |fq(x) - x|^2 over p[0..n) for one candidate, SSE2. fq follows ATen:
// v = x * inv_scale; q = clamp(zp + nearbyint(v), qmin, qmax); y = (q - zp) * scale.
// Clamping v to [qmin - zp, qmax - zp] before rounding gives the same q (the bounds
// are integers) and keeps v small enough for the 1.5 * 2^23 round-to-even trick.
double sq_loss_tail(const float* p, int64_t i, int64_t n, const QuantCandidate& q, float inv, float lo, float hi) {
  const float magic = 12582912.0f;  // 1.5 * 2^23
  double total = 0;
  for (; i < n; ++i) {
    float v = p[i] * inv;
    v = std::min(std::max(v, lo), hi);
    const float r = (v + magic) - magic;
    const float d = r * q.scale - p[i];
    total += static_cast<double>(d * d);
  }
  return total;
}

__attribute__((target("avx512f"))) double sq_loss_avx512(const float* p, int64_t n, const QuantCandidate& q,
                                                          float inv, float lo, float hi) {
  const __m512 vinv = _mm512_set1_ps(inv), vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi),
               vs = _mm512_set1_ps(q.scale), vm = _mm512_set1_ps(12582912.0f);
  __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
  int64_t i = 0;
  // Squares are summed in float over at most 16 vectors per lane, then in double.
  while (i + 16 <= n) {
    __m512 part = _mm512_setzero_ps();
    for (int k = 0; k < 16 && i + 16 <= n; ++k, i += 16) {
      const __m512 x = _mm512_loadu_ps(p + i);
      const __m512 v = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(x, vinv), vlo), vhi);
      const __m512 r = _mm512_sub_ps(_mm512_add_ps(v, vm), vm);
      const __m512 d = _mm512_sub_ps(_mm512_mul_ps(r, vs), x);
      part = _mm512_add_ps(part, _mm512_mul_ps(d, d));
    }
    acc0 = _mm512_add_pd(acc0, _mm512_cvtps_pd(_mm512_castps512_ps256(part)));
    acc1 = _mm512_add_pd(acc1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(part), 1))));
  }
  return _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1)) + sq_loss_tail(p, i, n, q, inv, lo, hi);
}

__attribute__((target("avx2"))) double sq_loss_avx2(const float* p, int64_t n, const QuantCandidate& q, float inv,
                                                     float lo, float hi) {
  const __m256 vinv = _mm256_set1_ps(inv), vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi),
               vs = _mm256_set1_ps(q.scale), vm = _mm256_set1_ps(12582912.0f);
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
  int64_t i = 0;
  while (i + 8 <= n) {
    __m256 part = _mm256_setzero_ps();
    for (int k = 0; k < 16 && i + 8 <= n; ++k, i += 8) {
      const __m256 x = _mm256_loadu_ps(p + i);
      const __m256 v = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(x, vinv), vlo), vhi);
      const __m256 r = _mm256_sub_ps(_mm256_add_ps(v, vm), vm);
      const __m256 d = _mm256_sub_ps(_mm256_mul_ps(r, vs), x);
      part = _mm256_add_ps(part, _mm256_mul_ps(d, d));
    }
    acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(part)));
    acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(part, 1)));
  }
  alignas(32) double s[4];
  _mm256_store_pd(s, _mm256_add_pd(acc0, acc1));
  return (s[0] + s[1]) + (s[2] + s[3]) + sq_loss_tail(p, i, n, q, inv, lo, hi);
}

// Sum of |fq(x) - x|^2 over p[0..n) for one candidate. fq follows ATen:
// v = x * inv_scale; q = clamp(zp + nearbyint(v), qmin, qmax); y = (q - zp) * scale.
// Clamping v to [qmin - zp, qmax - zp] before rounding gives the same q (the bounds
// are integers) and keeps v small enough for the 1.5 * 2^23 round-to-even trick;
// (q - zp) * scale is exact in float as in ATen's double product (|q - zp| < 2^17).
double sq_loss_run(const float* p, int64_t n, const QuantCandidate& q, float qmin, float qmax) {
  const float inv = 1.0f / q.scale;
  const float zp = static_cast<float>(q.zero_point);
  const float lo = qmin - zp, hi = qmax - zp;
  switch (cpu_isa()) {
    case Isa::Avx512: return sq_loss_avx512(p, n, q, inv, lo, hi);
    case Isa::Avx2: return sq_loss_avx2(p, n, q, inv, lo, hi);
    default: return sq_loss_tail(p, 0, n, q, inv, lo, hi);
  }
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

std::vector<double> pot_candidate_losses(const at::Tensor& x, int ch_axis, const std::vector<int64_t>& exponents,
                                         int64_t K, int method, int64_t quant_min, int64_t quant_max) {
  check_float_contiguous(x);
  const ChannelLayout L = channel_layout(x, ch_axis);
  const int64_t C = L.channels, N = L.numel();
  const float qmin = static_cast<float>(quant_min), qmax = static_cast<float>(quant_max);
  std::vector<float> steps(C * K);
  for (int64_t j = 0; j < C * K; ++j)
    steps[j] = static_cast<float>(1.0 / std::ldexp(1.0, static_cast<int>(exponents[j])));
  const int64_t chunks = num_chunks(N);
  std::vector<double> partial(chunks * C * K, 0.0);
  const float* data = x.data_ptr<float>();
  at::parallel_for(0, chunks, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t k = cb; k < ce; ++k) {
      const int64_t begin = k * kChunk, end = std::min(N, begin + kChunk);
      for_each_run(L, begin, end, [&](int64_t c, int64_t rb, int64_t re) {
        for (int64_t j = 0; j < K; ++j) {
          const float d = steps[c * K + j];
          double acc = 0;
          for (int64_t i = rb; i < re; ++i) {
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
          partial[(k * C + c) * K + j] += acc;
        }
      });
    }
  });
  std::vector<double> out(C * K, 0.0);
  for (int64_t k = 0; k < chunks; ++k)
    for (int64_t j = 0; j < C * K; ++j) out[j] += partial[k * C * K + j];
  return out;
}

}  // namespace mqb
