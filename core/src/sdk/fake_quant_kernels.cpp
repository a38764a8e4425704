// Fused fake-quantization kernels (see mqb/fake_quant_kernels.h).
//
// Rounding: for |v| <= 2^22 (float) / 2^51 (double), (v + 1.5*2^23) - 1.5*2^23 is
// nearbyint(v) in the default rounding mode (half to even), and vectorises where
// std::nearbyint does not. Codes outside that range are clamped first: they are far
// outside every quantization range (at most 2^16 levels), so the clamp changes
// neither the clamped code nor the mask. NaN and v >= 2^63 take ATen's int64
// overflow path (INT64_MIN, i.e. below quant_min).
//
#include "mqb/fake_quant_kernels.h"

#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <cstring>

#include <immintrin.h>
#include <sys/mman.h>

// The loops below select with floating-point compares; with trapping math GCC keeps
// them as branches (a compare may raise FE_INVALID) and does not vectorise. We never
// inspect floating-point exception flags or errno (fma sets neither), and values are
// unaffected.
#pragma GCC optimize("no-trapping-math", "no-math-errno")

namespace mqb {

namespace {

template <typename T>
struct Limits;
template <>
struct Limits<float> {
  static constexpr float kClamp = 0x1p22f;
  static constexpr float kMagic = 0x1.8p23f;
  static constexpr float kOverflow = 0x1p63f;
};
template <>
struct Limits<double> {
  static constexpr double kClamp = 0x1p51;
  static constexpr double kMagic = 0x1.8p52;
  static constexpr double kOverflow = 0x1p63;
};

// x * y + z with one rounding (the builtins inline to vfmadd under the AVX2+FMA target).
__attribute__((always_inline)) inline float fused_multiply_add(float x, float y, float z) { return __builtin_fmaf(x, y, z); }
__attribute__((always_inline)) inline double fused_multiply_add(double x, double y, double z) { return __builtin_fma(x, y, z); }

// nearbyint(v) for the purpose of int64(...) followed by a clamp to a small range.
template <typename T>
__attribute__((always_inline)) inline T round_code(T v) {
  using L = Limits<T>;
  v = v < L::kOverflow ? v : -L::kClamp;  // NaN, +inf, >= 2^63: int64 overflow -> INT64_MIN
  v = v > -L::kClamp ? v : -L::kClamp;
  v = v < L::kClamp ? v : L::kClamp;
  return (v + L::kMagic) - L::kMagic;
}

template <typename T>
struct Affine {
  T scale, inv, zp, qmin, qmax;
};

// The unclamped code zp + nearbyint(x/s) (whose range decides the straight-through
// mask) and the fake-quantized value, as ATen's per-tensor/per-channel kernels compute them.
template <typename T>
__attribute__((always_inline)) inline T affine_code(T x, const Affine<T>& a) {
  return a.zp + round_code<T>(x * a.inv);
}
template <typename T>
__attribute__((always_inline)) inline bool code_inside(T q, const Affine<T>& a) {
  return (q >= a.qmin) & (q <= a.qmax);
}
template <typename T>
__attribute__((always_inline)) inline T dequantized(T q, const Affine<T>& a) {
  T c = q > a.qmin ? q : a.qmin;
  c = c < a.qmax ? c : a.qmax;
  return (c - a.zp) * a.scale;
}

// Software prefetch of the cache lines `count` elements at `p` + kPrefetchDistance bytes:
// one core streams memory at well below the bus's rate unless more lines are in flight
// than its hardware prefetcher requests (a copy runs 2x faster on 2 threads than on 1).
constexpr int64_t kPrefetchDistance = 4096;
template <typename T>
__attribute__((always_inline)) inline void prefetch_ahead(const T* p, int64_t count) {
  const char* c = reinterpret_cast<const char*>(p) + kPrefetchDistance;
  for (int64_t off = 0; off < count * static_cast<int64_t>(sizeof(T)); off += 64) __builtin_prefetch(c + off);
}

// Elements per prefetch step of the streaming loops (1 KB of floats).
constexpr int64_t kBlock = 256;

template <typename T>
__attribute__((always_inline)) inline void forward_run(const T* __restrict x, T* __restrict y, int64_t n,
                                                       Affine<T> a) {
  for (int64_t b = 0; b < n; b += kBlock) {
    prefetch_ahead(x + b, kBlock);
    const int64_t e = std::min(n, b + kBlock);
    for (int64_t i = b; i < e; ++i) y[i] = dequantized(affine_code(x[i], a), a);
  }
}

template <typename T>
__attribute__((always_inline)) inline void backward_run(const T* __restrict dy, const T* __restrict x,
                                                        T* __restrict dx, int64_t n, Affine<T> a) {
  for (int64_t b = 0; b < n; b += kBlock) {
    prefetch_ahead(x + b, kBlock);
    prefetch_ahead(dy + b, kBlock);
    const int64_t e = std::min(n, b + kBlock);
    for (int64_t i = b; i < e; ++i) dx[i] = code_inside(affine_code(x[i], a), a) ? dy[i] : T(0);
  }
}

// The straight-through mask packed one bit per element (bit j of byte i is element
// 8i + j): the forward records it, and the backward reads dy plus 1/8 byte per
// element instead of dy and x, and rounds nothing. Runs start at multiples of 8
// elements (for_each_run's per-tensor chunks), so no two runs share a byte.
constexpr int64_t kMaskBlock = kBlock;

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "pack_bits reads eight bytes as one little-endian word");

// Eight 0/1 bytes to one byte (byte j -> bit j). The multiply places byte j's bit at
// bit 56 + j; every partial product lands on a distinct bit, so nothing carries.
__attribute__((always_inline)) inline void pack_bits(const uint8_t* __restrict in, int64_t m, uint8_t* __restrict out) {
  int64_t g = 0;
  for (; 8 * g + 8 <= m; ++g) {
    uint64_t v;
    std::memcpy(&v, in + 8 * g, 8);
    out[g] = static_cast<uint8_t>((v * 0x0102040810204080ULL) >> 56);
  }
  if (8 * g < m) {
    unsigned last = 0;
    for (int64_t j = 8 * g; j < m; ++j) last |= static_cast<unsigned>(in[j]) << (j - 8 * g);
    out[g] = static_cast<uint8_t>(last);
  }
}

template <typename T>
__attribute__((always_inline)) inline void forward_mask_run(const T* __restrict x, T* __restrict y,
                                                            uint8_t* __restrict bits, int64_t n, Affine<T> a) {
  uint8_t inside[kMaskBlock];
  for (int64_t b = 0; b < n; b += kMaskBlock) {
    prefetch_ahead(x + b, kMaskBlock);
    const int64_t m = std::min(kMaskBlock, n - b);
    for (int64_t i = 0; i < m; ++i) {
      const T q = affine_code(x[b + i], a);
      y[b + i] = dequantized(q, a);
      inside[i] = code_inside(q, a);
    }
    pack_bits(inside, m, bits + b / 8);
  }
}

// Generic form (the baseline build and the tails of the AVX2 loops).
template <typename T>
__attribute__((always_inline)) inline void backward_mask_run(const T* __restrict dy, const uint8_t* __restrict bits,
                                                             T* __restrict dx, int64_t n) {
  int64_t g = 0;
  for (; 8 * g + 8 <= n; ++g) {
    const unsigned m = bits[g];
    for (int j = 0; j < 8; ++j) dx[8 * g + j] = ((m >> j) & 1u) ? dy[8 * g + j] : T(0);
  }
  for (int64_t i = 8 * g; i < n; ++i) dx[i] = ((bits[g] >> (i - 8 * g)) & 1u) ? dy[i] : T(0);
}

constexpr int kLanes = 16;

template <typename T>
struct LearnableGrads {
  T dx, ds, dz;
};

template <typename T>
__attribute__((always_inline)) inline LearnableGrads<T> learnable_element(T x, T g, const Affine<T>& a, T gf) {
  // ATen's AVX2 build contracts zp + x*inv and xfq - x into fused multiply-adds
  // (one rounding each); fused_multiply_add reproduces that bit for bit.
  const T q = round_code<T>(fused_multiply_add(x, a.inv, a.zp));
  const bool below = q < a.qmin, above = q > a.qmax;
  const bool inside = !(below | above);
  T c = q > a.qmin ? q : a.qmin;
  c = c < a.qmax ? c : a.qmax;
  const T ds_in = g * fused_multiply_add(c - a.zp, a.scale, -x) * a.inv * gf;
  const T ds_out = g * (below ? a.qmin - a.zp : a.qmax - a.zp) * gf;
  return {inside ? g : T(0), inside ? ds_in : ds_out, inside ? T(0) : -g * a.scale * gf};
}

// The learnable backward over one run; partial sums of ds / dz go to kLanes
// independent double accumulators, which keeps the loop vectorisable without
// reassociating any sum.
template <typename T>
__attribute__((always_inline)) inline void learnable_backward_run(const T* __restrict dy, const T* __restrict x,
                                                                  T* __restrict dx, int64_t n, Affine<T> a, T gf,
                                                                  double* __restrict ds_lanes,
                                                                  double* __restrict dz_lanes) {
  double ds[kLanes], dz[kLanes];  // local, so they can live in registers
  for (int j = 0; j < kLanes; ++j) {
    ds[j] = ds_lanes[j];
    dz[j] = dz_lanes[j];
  }
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) {
      const LearnableGrads<T> r = learnable_element(x[i + j], dy[i + j], a, gf);
      dx[i + j] = r.dx;
      ds[j] += static_cast<double>(r.ds);
      dz[j] += static_cast<double>(r.dz);
    }
  }
  for (int j = 0; i < n; ++i, ++j) {
    const LearnableGrads<T> r = learnable_element(x[i], dy[i], a, gf);
    dx[i] = r.dx;
    ds[j] += static_cast<double>(r.ds);
    dz[j] += static_cast<double>(r.dz);
  }
  for (int j = 0; j < kLanes; ++j) {
    ds_lanes[j] = ds[j];
    dz_lanes[j] = dz[j];
  }
}

// Each hot loop is compiled for AVX2+FMA and for the baseline; the AVX2 version is
// chosen at run time when the CPU has it. (target_clones("arch=haswell") would test
// the CPU model, not its features, and miss newer CPUs.)
bool has_avx2_fma() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}

#define MQB_DISPATCH(NAME, PARAMS, ARGS, BODY)                      \
  __attribute__((target("avx2,fma"))) void NAME##_avx2 PARAMS { BODY ARGS; } \
  void NAME##_base PARAMS { BODY ARGS; }                            \
  void NAME PARAMS {                                                \
    if (has_avx2_fma()) NAME##_avx2 ARGS;                           \
    else NAME##_base ARGS;                                          \
  }

MQB_DISPATCH(forward_f, (const float* x, float* y, int64_t n, Affine<float> a), (x, y, n, a), forward_run)
MQB_DISPATCH(forward_d, (const double* x, double* y, int64_t n, Affine<double> a), (x, y, n, a), forward_run)
MQB_DISPATCH(backward_f, (const float* dy, const float* x, float* dx, int64_t n, Affine<float> a),
             (dy, x, dx, n, a), backward_run)
MQB_DISPATCH(backward_d, (const double* dy, const double* x, double* dx, int64_t n, Affine<double> a),
             (dy, x, dx, n, a), backward_run)
MQB_DISPATCH(forward_mask_f, (const float* x, float* y, uint8_t* bits, int64_t n, Affine<float> a), (x, y, bits, n, a),
             forward_mask_run)
MQB_DISPATCH(forward_mask_d, (const double* x, double* y, uint8_t* bits, int64_t n, Affine<double> a),
             (x, y, bits, n, a), forward_mask_run)

// The mask backward with AVX2 written out: GCC turns the generic loop into a branch
// per element, and the mask is as unpredictable as the data. Each mask byte is
// broadcast, tested against one bit per lane, and the lane mask clears dy.
__attribute__((target("avx2,fma"))) void backward_mask_f_avx2(const float* dy, const uint8_t* bits, float* dx,
                                                             int64_t n) {
  const __m256i lane_bit = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  int64_t g = 0;
  for (; 8 * g + 8 <= n; ++g) {
    if ((g & (kBlock / 8 - 1)) == 0) prefetch_ahead(dy + 8 * g, kBlock);
    const __m256i set = _mm256_and_si256(_mm256_set1_epi32(bits[g]), lane_bit);
    const __m256 keep = _mm256_castsi256_ps(_mm256_cmpeq_epi32(set, lane_bit));
    _mm256_storeu_ps(dx + 8 * g, _mm256_and_ps(_mm256_loadu_ps(dy + 8 * g), keep));
  }
  backward_mask_run(dy + 8 * g, bits + g, dx + 8 * g, n - 8 * g);
}

__attribute__((target("avx2,fma"))) void backward_mask_d_avx2(const double* dy, const uint8_t* bits, double* dx,
                                                             int64_t n) {
  const __m256i low_bits = _mm256_setr_epi64x(1, 2, 4, 8);
  const __m256i high_bits = _mm256_setr_epi64x(16, 32, 64, 128);
  int64_t g = 0;
  for (; 8 * g + 8 <= n; ++g) {
    const __m256i m = _mm256_set1_epi64x(bits[g]);
    const __m256d keep_low = _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_and_si256(m, low_bits), low_bits));
    const __m256d keep_high = _mm256_castsi256_pd(_mm256_cmpeq_epi64(_mm256_and_si256(m, high_bits), high_bits));
    _mm256_storeu_pd(dx + 8 * g, _mm256_and_pd(_mm256_loadu_pd(dy + 8 * g), keep_low));
    _mm256_storeu_pd(dx + 8 * g + 4, _mm256_and_pd(_mm256_loadu_pd(dy + 8 * g + 4), keep_high));
  }
  backward_mask_run(dy + 8 * g, bits + g, dx + 8 * g, n - 8 * g);
}

void backward_mask_f(const float* dy, const uint8_t* bits, float* dx, int64_t n) {
  if (has_avx2_fma()) backward_mask_f_avx2(dy, bits, dx, n);
  else backward_mask_run(dy, bits, dx, n);
}
void backward_mask_d(const double* dy, const uint8_t* bits, double* dx, int64_t n) {
  if (has_avx2_fma()) backward_mask_d_avx2(dy, bits, dx, n);
  else backward_mask_run(dy, bits, dx, n);
}
MQB_DISPATCH(lbackward_f,
             (const float* dy, const float* x, float* dx, int64_t n, Affine<float> a, float gf, double* ds, double* dz),
             (dy, x, dx, n, a, gf, ds, dz), learnable_backward_run)
MQB_DISPATCH(lbackward_d,
             (const double* dy, const double* x, double* dx, int64_t n, Affine<double> a, double gf, double* ds,
              double* dz),
             (dy, x, dx, n, a, gf, ds, dz), learnable_backward_run)
#undef MQB_DISPATCH

inline void run_forward(const float* x, float* y, int64_t n, Affine<float> a) { forward_f(x, y, n, a); }
inline void run_forward(const double* x, double* y, int64_t n, Affine<double> a) { forward_d(x, y, n, a); }
inline void run_backward(const float* dy, const float* x, float* dx, int64_t n, Affine<float> a) {
  backward_f(dy, x, dx, n, a);
}
inline void run_backward(const double* dy, const double* x, double* dx, int64_t n, Affine<double> a) {
  backward_d(dy, x, dx, n, a);
}
inline void run_forward_mask(const float* x, float* y, uint8_t* bits, int64_t n, Affine<float> a) {
  forward_mask_f(x, y, bits, n, a);
}
inline void run_forward_mask(const double* x, double* y, uint8_t* bits, int64_t n, Affine<double> a) {
  forward_mask_d(x, y, bits, n, a);
}
inline void run_backward_mask(const float* dy, const uint8_t* bits, float* dx, int64_t n) {
  backward_mask_f(dy, bits, dx, n);
}
inline void run_backward_mask(const double* dy, const uint8_t* bits, double* dx, int64_t n) {
  backward_mask_d(dy, bits, dx, n);
}
inline void run_lbackward(const float* dy, const float* x, float* dx, int64_t n, Affine<float> a, float gf, double* ds,
                          double* dz) {
  lbackward_f(dy, x, dx, n, a, gf, ds, dz);
}
inline void run_lbackward(const double* dy, const double* x, double* dx, int64_t n, Affine<double> a, double gf,
                          double* ds, double* dz) {
  lbackward_d(dy, x, dx, n, a, gf, ds, dz);
}

constexpr int64_t kChunk = 16384;  // elements per parallel work item

// A fresh output tensor. Large outputs are fresh mmap'ed memory, and first-touch page
// faults on 4 KiB pages cost more than the kernel itself (16M floats: ~16k faults);
// asking for transparent huge pages before the first write removes most of them. A
// hint only: without THP support nothing changes.
at::Tensor empty_output(const at::Tensor& like) {
  at::Tensor t = at::empty(like.sizes(), like.options());
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(t.data_ptr());
  const uintptr_t end = begin + static_cast<uintptr_t>(t.nbytes());
  const uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
  if (end > first + kHuge) ::madvise(reinterpret_cast<void*>(first), (end - first) & ~(kHuge - 1), MADV_HUGEPAGE);
  return t;
}

// The tensor seen as [outer, C, inner] with C the channel axis (C = 1 per-tensor).
struct Layout {
  int64_t outer = 1, channels = 1, inner = 1;
};

Layout layout_of(const at::Tensor& x, int64_t ch_axis) {
  Layout l;
  if (ch_axis < 0) {
    l.inner = x.numel();
    return l;
  }
  for (int64_t d = 0; d < ch_axis; ++d) l.outer *= x.size(d);
  l.channels = x.size(ch_axis);
  for (int64_t d = ch_axis + 1; d < x.dim(); ++d) l.inner *= x.size(d);
  return l;
}

enum class ZpRounding { Integral, HalfEven, PlusHalfTrunc };

// Per-channel (or single) affine parameters in T, zero points rounded as asked.
template <typename T>
std::vector<Affine<T>> affine_params(const at::Tensor& scale, const at::Tensor& zero_point, int64_t qmin,
                                     int64_t qmax, const Layout& l, ZpRounding zr, const char* who) {
  const int64_t c = l.channels;
  if (scale.numel() != c || zero_point.numel() != c)
    throw DataError(std::string(who) + ": scale has " + std::to_string(scale.numel()) + " and zero_point " +
                    std::to_string(zero_point.numel()) + " elements; the input needs " + std::to_string(c) +
                    (c == 1 ? " (per-tensor)" : " (one per channel)"));
  at::Tensor s = scale.detach().to(at::kDouble).contiguous();
  at::Tensor z = zero_point.detach().to(at::kDouble).contiguous();
  const double* ps = s.data_ptr<double>();
  const double* pz = z.data_ptr<double>();
  std::vector<Affine<T>> out(static_cast<size_t>(c));
  for (int64_t i = 0; i < c; ++i) {
    const T sv = static_cast<T>(ps[i]);
    double zv = pz[i];
    // As ATen: the (rounded, clamped) zero point must lie in the range; a NaN zero point
    // (e.g. from a zero scale) is refused instead of silently producing garbage.
    if (std::isnan(zv))
      throw DataError(std::string(who) + ": zero_point is NaN (was the scale 0?); it must be between quant_min " +
                      std::to_string(qmin) + " and quant_max " + std::to_string(qmax));
    if (zr == ZpRounding::HalfEven) {
      zv = std::nearbyint(static_cast<T>(zv));
      zv = std::min(std::max(zv, static_cast<double>(qmin)), static_cast<double>(qmax));
    } else if (zr == ZpRounding::PlusHalfTrunc) {
      const float zf = std::min(std::max(static_cast<float>(zv) + 0.5f, static_cast<float>(qmin)),
                                static_cast<float>(qmax));
      zv = static_cast<double>(static_cast<int64_t>(zf));
    }
    if (zv < static_cast<double>(qmin) || zv > static_cast<double>(qmax))
      throw DataError(std::string(who) + ": zero_point " + std::to_string(zv) + " must be between quant_min " +
                      std::to_string(qmin) + " and quant_max " + std::to_string(qmax));
    out[static_cast<size_t>(i)] = {sv, T(1) / sv, static_cast<T>(zv), static_cast<T>(qmin), static_cast<T>(qmax)};
  }
  return out;
}

// Calls f(begin, end, row) for contiguous runs of constant parameters, in parallel.
// Per-tensor: chunks of kChunk elements (row = chunk index); per-channel: one run per
// (outer, channel) row, several rows per work item.
template <typename F>
void for_each_run(const Layout& l, F f) {
  if (l.channels == 1 && l.outer == 1) {
    const int64_t n = l.inner;
    const int64_t chunks = (n + kChunk - 1) / kChunk;
    at::parallel_for(0, chunks, 1, [&](int64_t b, int64_t e) {
      for (int64_t c = b; c < e; ++c) f(c * kChunk, std::min(n, (c + 1) * kChunk), c);
    });
    return;
  }
  const int64_t rows = l.outer * l.channels;
  const int64_t grain = std::max<int64_t>(1, kChunk / std::max<int64_t>(1, l.inner));
  at::parallel_for(0, rows, grain, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) f(r * l.inner, (r + 1) * l.inner, r);
  });
}

int64_t run_count(const Layout& l) {
  if (l.channels == 1 && l.outer == 1) return (l.inner + kChunk - 1) / kChunk;
  return l.outer * l.channels;
}

void check_float(const at::Tensor& t, const char* who) {
  if (!t.defined() || (t.scalar_type() != at::kFloat && t.scalar_type() != at::kDouble))
    throw DataError(std::string(who) + ": expected a float32 or float64 tensor, got " +
                    (t.defined() ? std::string(c10::toString(t.scalar_type())) : std::string("an undefined tensor")));
}

template <typename T>
at::Tensor forward_impl(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zp, int64_t qmin,
                        int64_t qmax, int64_t ch_axis, ZpRounding zr) {
  const at::Tensor xc = x.contiguous();
  const Layout l = layout_of(xc, ch_axis);
  const auto params = affine_params<T>(scale, zp, qmin, qmax, l, zr, "fake_quantize");
  at::Tensor y = empty_output(xc);
  const T* px = xc.data_ptr<T>();
  T* py = y.data_ptr<T>();
  for_each_run(l, [&](int64_t b, int64_t e, int64_t r) {
    run_forward(px + b, py + b, e - b, params[static_cast<size_t>(l.channels == 1 ? 0 : r % l.channels)]);
  });
  return y;
}

template <typename T>
at::Tensor backward_impl(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zp,
                         int64_t qmin, int64_t qmax, int64_t ch_axis, ZpRounding zr) {
  const at::Tensor xc = x.contiguous();
  const at::Tensor dyc = dy.to(xc.scalar_type()).contiguous();
  const Layout l = layout_of(xc, ch_axis);
  const auto params = affine_params<T>(scale, zp, qmin, qmax, l, zr, "fake_quantize backward");
  at::Tensor dx = empty_output(xc);
  const T* px = xc.data_ptr<T>();
  const T* pdy = dyc.data_ptr<T>();
  T* pdx = dx.data_ptr<T>();
  for_each_run(l, [&](int64_t b, int64_t e, int64_t r) {
    run_backward(pdy + b, px + b, pdx + b, e - b, params[static_cast<size_t>(l.channels == 1 ? 0 : r % l.channels)]);
  });
  return dx;
}

template <typename T>
std::tuple<at::Tensor, at::Tensor> forward_mask_impl(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zp,
                                                     int64_t qmin, int64_t qmax) {
  const at::Tensor xc = x.contiguous();
  const Layout l = layout_of(xc, -1);
  const auto params = affine_params<T>(scale, zp, qmin, qmax, l, ZpRounding::Integral, "fake_quantize");
  at::Tensor y = empty_output(xc);
  at::Tensor bits = at::empty({(xc.numel() + 7) / 8}, at::TensorOptions().dtype(at::kByte));
  const T* px = xc.data_ptr<T>();
  T* py = y.data_ptr<T>();
  uint8_t* pb = bits.data_ptr<uint8_t>();
  for_each_run(l, [&](int64_t b, int64_t e, int64_t) { run_forward_mask(px + b, py + b, pb + b / 8, e - b, params[0]); });
  return {y, bits};
}

template <typename T>
at::Tensor backward_mask_impl(const at::Tensor& dy, const at::Tensor& bits) {
  const at::Tensor dyc = dy.contiguous();
  const Layout l = layout_of(dyc, -1);
  at::Tensor dx = empty_output(dyc);
  const T* pdy = dyc.data_ptr<T>();
  const uint8_t* pb = bits.data_ptr<uint8_t>();
  T* pdx = dx.data_ptr<T>();
  for_each_run(l, [&](int64_t b, int64_t e, int64_t) { run_backward_mask(pdy + b, pb + b / 8, pdx + b, e - b); });
  return dx;
}

template <typename T>
std::tuple<at::Tensor, at::Tensor, at::Tensor> learnable_backward_impl(const at::Tensor& dy, const at::Tensor& x,
                                                                       const at::Tensor& scale, const at::Tensor& zp,
                                                                       int64_t qmin, int64_t qmax, int64_t ch_axis,
                                                                       double grad_factor) {
  const at::Tensor xc = x.contiguous();
  const at::Tensor dyc = dy.to(xc.scalar_type()).contiguous();
  const Layout l = layout_of(xc, ch_axis);
  const auto params = affine_params<T>(scale, zp, qmin, qmax, l,
                                       ch_axis < 0 ? ZpRounding::PlusHalfTrunc : ZpRounding::HalfEven,
                                       "fake_quantize_learnable backward");
  at::Tensor dx = empty_output(xc);
  const T* px = xc.data_ptr<T>();
  const T* pdy = dyc.data_ptr<T>();
  T* pdx = dx.data_ptr<T>();
  const T gf = static_cast<T>(grad_factor);
  // Partial sums in a fixed layout and reduced in a fixed order, so the result does not
  // depend on the thread count. Per-tensor: kLanes partials per chunk. Per-channel:
  // each work item owns whole channels (kLanes partials per channel), which keeps the
  // memory at C * kLanes whatever the layout (one element per run included).
  const bool per_tensor = l.channels == 1 && l.outer == 1;
  const int64_t slots = per_tensor ? run_count(l) : l.channels;
  std::vector<double> ds_part(static_cast<size_t>(slots * kLanes), 0.0), dz_part(ds_part.size(), 0.0);
  if (per_tensor) {
    for_each_run(l, [&](int64_t b, int64_t e, int64_t r) {
      run_lbackward(pdy + b, px + b, pdx + b, e - b, params[0], gf, ds_part.data() + r * kLanes,
                    dz_part.data() + r * kLanes);
    });
  } else {
    const int64_t grain = std::max<int64_t>(1, kChunk / std::max<int64_t>(1, l.outer * l.inner));
    at::parallel_for(0, l.channels, grain, [&](int64_t cb, int64_t ce) {
      for (int64_t c = cb; c < ce; ++c)
        for (int64_t o = 0; o < l.outer; ++o) {
          const int64_t b = (o * l.channels + c) * l.inner;
          run_lbackward(pdy + b, px + b, pdx + b, l.inner, params[static_cast<size_t>(c)], gf,
                        ds_part.data() + c * kLanes, dz_part.data() + c * kLanes);
        }
    });
  }
  std::vector<double> ds(static_cast<size_t>(l.channels), 0.0), dz(ds.size(), 0.0);
  for (int64_t r = 0; r < slots; ++r) {
    const size_t c = static_cast<size_t>(per_tensor ? 0 : r);
    for (int j = 0; j < kLanes; ++j) {
      ds[c] += ds_part[static_cast<size_t>(r * kLanes + j)];
      dz[c] += dz_part[static_cast<size_t>(r * kLanes + j)];
    }
  }
  at::Tensor dscale = at::empty(scale.sizes(), scale.options().dtype(scale.scalar_type()));
  at::Tensor dzp = at::empty(zp.sizes(), zp.options().dtype(zp.scalar_type()));
  at::Tensor ds_d = at::empty({l.channels}, at::TensorOptions().dtype(at::kDouble));
  at::Tensor dz_d = at::empty({l.channels}, at::TensorOptions().dtype(at::kDouble));
  std::copy(ds.begin(), ds.end(), ds_d.data_ptr<double>());
  std::copy(dz.begin(), dz.end(), dz_d.data_ptr<double>());
  dscale.copy_(ds_d.reshape(scale.sizes()));
  dzp.copy_(dz_d.reshape(zp.sizes()));
  return {dx, dscale, dzp};
}

int64_t normalised_axis(const at::Tensor& x, int64_t ch_axis) {
  if (ch_axis < 0) return -1;
  if (ch_axis >= x.dim())
    throw DataError("fake_quantize: channel axis " + std::to_string(ch_axis) + " does not exist in a tensor of " +
                    std::to_string(x.dim()) + " dims");
  return ch_axis;
}

// What both fake-quant Functions keep for their backward pass.
struct Saved {
  at::Tensor x, scale, zp;
  int64_t qmin, qmax, axis;
};

void save(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zp,
          int64_t qmin, int64_t qmax, int64_t ch_axis) {
  ctx->save_for_backward({x, scale, zp});
  ctx->saved_data["qmin"] = qmin;
  ctx->saved_data["qmax"] = qmax;
  ctx->saved_data["axis"] = ch_axis;
}

Saved saved(torch::autograd::AutogradContext* ctx) {
  const auto v = ctx->get_saved_variables();
  return {v[0], v[1], v[2], ctx->saved_data["qmin"].toInt(), ctx->saved_data["qmax"].toInt(),
          ctx->saved_data["axis"].toInt()};
}

at::Tensor forward_dispatch(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zp, int64_t qmin,
                            int64_t qmax, int64_t ch_axis, ZpRounding zr, const char* who) {
  check_float(x, who);
  ch_axis = normalised_axis(x, ch_axis);
  if (x.scalar_type() == at::kDouble) return forward_impl<double>(x, scale, zp, qmin, qmax, ch_axis, zr);
  return forward_impl<float>(x, scale, zp, qmin, qmax, ch_axis, zr);
}

// Per-tensor, the forward keeps the packed mask for the backward (less memory traffic
// than reading x again); per-channel, the backward recomputes the mask from x.
class AffineFunction : public torch::autograd::Function<AffineFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& scale,
                            const at::Tensor& zp, int64_t qmin, int64_t qmax, int64_t ch_axis) {
    if (ch_axis < 0) {
      auto [y, mask] = fq_affine_forward_with_mask(x, scale, zp, qmin, qmax);
      ctx->save_for_backward({mask});
      ctx->saved_data["dtype"] = static_cast<int64_t>(x.scalar_type());
      return y;
    }
    save(ctx, x, scale, zp, qmin, qmax, ch_axis);
    return fq_affine_forward(x, scale, zp, qmin, qmax, ch_axis);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    at::Tensor dx;
    if (grads[0].defined()) {
      if (ctx->saved_data.count("dtype")) {
        const auto dtype = static_cast<at::ScalarType>(ctx->saved_data["dtype"].toInt());
        dx = fq_affine_backward_from_mask(grads[0].to(dtype), ctx->get_saved_variables()[0]);
      } else {
        const Saved s = saved(ctx);
        dx = fq_affine_backward(grads[0], s.x, s.scale, s.zp, s.qmin, s.qmax, s.axis);
      }
    }
    return {dx, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

class LearnableFunction : public torch::autograd::Function<LearnableFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& scale,
                            const at::Tensor& zp, int64_t qmin, int64_t qmax, int64_t ch_axis, double grad_factor) {
    save(ctx, x, scale, zp, qmin, qmax, ch_axis);
    ctx->saved_data["gf"] = grad_factor;
    return fq_learnable_forward(x, scale, zp, qmin, qmax, ch_axis);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    if (!grads[0].defined()) return torch::autograd::variable_list(7);
    const Saved s = saved(ctx);
    auto [dx, ds, dz] =
        fq_learnable_backward(grads[0], s.x, s.scale, s.zp, s.qmin, s.qmax, s.axis, ctx->saved_data["gf"].toDouble());
    return {dx, ds, dz, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

class StraightThroughFunction : public torch::autograd::Function<StraightThroughFunction> {
 public:
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& value,
                            const at::Tensor& mask) {
    ctx->save_for_backward({mask});
    (void)x;
    return value;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const at::Tensor mask = ctx->get_saved_variables()[0];
    at::Tensor dx = grads[0];
    if (dx.defined() && mask.numel() > 0) dx = dx.mul(mask.to(dx.scalar_type()));
    return {dx, at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor straight_through(const at::Tensor& x, const at::Tensor& value, const at::Tensor& mask) {
  // Function inputs must be defined: "no mask" travels as an empty tensor.
  return StraightThroughFunction::apply(x, value.detach(), mask.defined() ? mask.detach() : at::empty({0}, at::kBool));
}

void check_fake_quant_input(const at::Tensor& x, int64_t ch_axis, const std::string& who) {
  check_float(x, who.c_str());
  if (ch_axis >= 0 && ch_axis >= x.dim())
    throw DataError(who + ": per-channel axis " + std::to_string(ch_axis) + " does not exist in a tensor of " +
                    std::to_string(x.dim()) + " dims");
}

std::vector<int64_t> channel_view_shape(const at::Tensor& x, int64_t ch_axis) {
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  if (ch_axis >= 0 && ch_axis < x.dim()) shape[static_cast<size_t>(ch_axis)] = x.size(ch_axis);
  return shape;
}

at::Tensor fq_affine_forward(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero_point,
                             int64_t quant_min, int64_t quant_max, int64_t ch_axis) {
  return forward_dispatch(x, scale, zero_point, quant_min, quant_max, ch_axis, ZpRounding::Integral, "fake_quantize");
}

at::Tensor fq_affine_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& scale,
                              const at::Tensor& zero_point, int64_t quant_min, int64_t quant_max, int64_t ch_axis) {
  check_float(x, "fake_quantize backward");
  ch_axis = normalised_axis(x, ch_axis);
  if (x.scalar_type() == at::kDouble)
    return backward_impl<double>(dy, x, scale, zero_point, quant_min, quant_max, ch_axis, ZpRounding::Integral);
  return backward_impl<float>(dy, x, scale, zero_point, quant_min, quant_max, ch_axis, ZpRounding::Integral);
}

std::tuple<at::Tensor, at::Tensor> fq_affine_forward_with_mask(const at::Tensor& x, const at::Tensor& scale,
                                                               const at::Tensor& zero_point, int64_t quant_min,
                                                               int64_t quant_max) {
  check_float(x, "fake_quantize");
  if (x.scalar_type() == at::kDouble) return forward_mask_impl<double>(x, scale, zero_point, quant_min, quant_max);
  return forward_mask_impl<float>(x, scale, zero_point, quant_min, quant_max);
}

at::Tensor fq_affine_backward_from_mask(const at::Tensor& dy, const at::Tensor& mask) {
  check_float(dy, "fake_quantize backward");
  if (!mask.defined() || mask.scalar_type() != at::kByte || mask.dim() != 1 || mask.numel() != (dy.numel() + 7) / 8)
    throw DataError("fake_quantize backward: the mask must be the uint8 tensor of " +
                    std::to_string((dy.numel() + 7) / 8) + " bytes fq_affine_forward_with_mask returned for " +
                    std::to_string(dy.numel()) + " elements");
  const at::Tensor bits = mask.contiguous();
  if (dy.scalar_type() == at::kDouble) return backward_mask_impl<double>(dy, bits);
  return backward_mask_impl<float>(dy, bits);
}

at::Tensor fq_learnable_forward(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero_point,
                                int64_t quant_min, int64_t quant_max, int64_t ch_axis) {
  return forward_dispatch(x, scale, zero_point, quant_min, quant_max, ch_axis, ZpRounding::HalfEven,
                          "fake_quantize_learnable");
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> fq_learnable_backward(const at::Tensor& dy, const at::Tensor& x,
                                                                     const at::Tensor& scale,
                                                                     const at::Tensor& zero_point, int64_t quant_min,
                                                                     int64_t quant_max, int64_t ch_axis,
                                                                     double grad_factor) {
  check_float(x, "fake_quantize_learnable backward");
  ch_axis = normalised_axis(x, ch_axis);
  if (x.scalar_type() == at::kDouble)
    return learnable_backward_impl<double>(dy, x, scale, zero_point, quant_min, quant_max, ch_axis, grad_factor);
  return learnable_backward_impl<float>(dy, x, scale, zero_point, quant_min, quant_max, ch_axis, grad_factor);
}

at::Tensor fake_quantize_affine(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero_point,
                                int64_t quant_min, int64_t quant_max, int64_t ch_axis) {
  return AffineFunction::apply(x, scale.detach(), zero_point.detach(), quant_min, quant_max, ch_axis);
}

at::Tensor fake_quantize_learnable(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero_point,
                                   int64_t quant_min, int64_t quant_max, int64_t ch_axis, double grad_factor) {
  return LearnableFunction::apply(x, scale, zero_point, quant_min, quant_max, ch_axis, grad_factor);
}

}  // namespace mqb
