// MSE range search and the Vitis-AI power-of-two search (see mqb/observer_search.h).
#include "mqb/observer_search.h"

#include <ATen/ops/full.h>
#include <ATen/ops/zeros.h>

#include <cmath>

#include "mqb/observer_kernels.h"

namespace mqb {

// ---------------------------------------------------------------- MSE search

MseSearchObserver::MseSearchObserver(const ObserverArgs& args, std::string class_name, bool ema)
    : ObserverBase(args, class_name), ema_(ema) {
  const Params& p = args.params;
  p_ = p.real("p", 2.0);
  p.require(p_ > 0 && std::isfinite(p_), "p", "a finite number > 0");
  iters_per_tensor_ = p.integer("iters_per_tensor", 95);
  p.require(iters_per_tensor_ >= 1 && iters_per_tensor_ <= 100, "iters_per_tensor", "1..100");
  iters_per_channel_ = p.integer("iters_per_channel", 80);
  p.require(iters_per_channel_ >= 1 && iters_per_channel_ <= 100, "iters_per_channel", "1..100");
  if (ema_) {
    ema_ratio_ = p.real("ema_ratio", 0.9);
    p.require(ema_ratio_ >= 0 && ema_ratio_ <= 1, "ema_ratio", "a number in [0, 1]");
  }
  p.reject_unknown(class_name);
}

std::pair<std::vector<float>, std::vector<float>> MseSearchObserver::search(const at::Tensor& x) const {
  const int axis = stat_axis();
  const ChannelStats st = channel_stats(x, axis, kStatsMinMax, class_name());
  const int64_t C = static_cast<int64_t>(st.min.size());
  const int64_t K = axis < 0 ? iters_per_tensor_ : iters_per_channel_;
  std::vector<float> factors(K);
  for (int64_t i = 0; i < K; ++i) factors[i] = static_cast<float>(1.0 - static_cast<double>(i) * 0.01);
  std::vector<QuantCandidate> cand(C * K);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < K; ++i) {
      const ScalarQParams q = qparams_scalar(st.min[c] * factors[i], st.max[c] * factors[i], scheme_);
      cand[c * K + i] = {q.scale, q.zero_point};
    }
  const std::vector<double> loss =
      candidate_losses(x, axis, cand, K, scheme_.quant_min(), scheme_.quant_max(), p_);
  std::vector<float> lo(C), hi(C);
  const double n = static_cast<double>(st.count);
  for (int64_t c = 0; c < C; ++c) {
    double best = 1e10;
    lo[c] = st.min[c];
    hi[c] = st.max[c];
    for (int64_t i = 0; i < K; ++i) {
      const double score = loss[c * K + i] / n;
      if (score < best) {
        best = score;
        lo[c] = st.min[c] * factors[i];
        hi[c] = st.max[c] * factors[i];
      }
    }
  }
  return {lo, hi};
}

void MseSearchObserver::observe(const at::Tensor& x) {
  auto input = prepare_input(x);
  if (!input) return;
  auto [lo, hi] = search(*input);
  const at::Tensor tlo = float_tensor(lo, scheme_.per_channel), thi = float_tensor(hi, scheme_.per_channel);
  if (ema_) accumulate_ema(tlo, thi, ema_ratio_);
  else accumulate_running(tlo, thi);
}

// ---------------------------------------------------------------- power-of-two search

namespace {
constexpr int64_t kStatusNoData = 0, kStatusValid = 1, kStatusInvalid = -1;
}

PotSearchObserver::PotSearchObserver(const ObserverArgs& args, std::string class_name, Variant variant)
    : ObserverBase(args, class_name), variant_(variant) {
  const Params& p = args.params;
  if (variant_ == Variant::EmaFloor) {
    ema_ratio_ = p.real("ema_ratio", 0.9);
    p.require(ema_ratio_ >= 0 && ema_ratio_ <= 1, "ema_ratio", "a number in [0, 1]");
  }
  if (variant_ == Variant::Mode) compat_ = p.boolean("mqbench_compat", false);
  p.reject_unknown(class_name);
  register_state("pot_search", &search_, [] { return at::zeros({4}, at::kLong); });
  if (variant_ == Variant::Mode) {
    const int64_t slots = compat_ ? kCompatSlots : kMaxExponent - kMinExponent + 1;
    register_state("counter", &counter_, [slots] { return at::zeros({slots}, at::kLong); });
  }
}

void PotSearchObserver::observe(const at::Tensor& x) {
  auto input = prepare_input(x);
  if (!input) return;
  // Vitis searches one scale per tensor: per-channel schemes use the whole tensor (as MQBench).
  const ChannelStats st = channel_stats(*input, -1, kStatsMinMax, class_name());
  const at::Tensor lo = float_tensor(st.min, false), hi = float_tensor(st.max, false);
  if (variant_ == Variant::EmaFloor) {
    accumulate_ema(lo, hi, ema_ratio_);
  } else {
    min_val_ = lo;
    max_val_ = hi;
  }
  const float mn = min_val_.item<float>(), mx = max_val_.item<float>();
  // b = max(min / qmin, max / qmax) with Python's max (NaN in the first place wins).
  const float q1 = mn / static_cast<float>(scheme_.quant_min());
  const float q2 = mx / static_cast<float>(scheme_.quant_max());
  const float b = q2 > q1 ? q2 : q1;
  int64_t* s = search_.data_ptr<int64_t>();
  int64_t e0 = 0;
  if (!(b < std::ldexp(1.0f, -15))) {
    const float e = std::floor(std::log2(1.0f / b));
    if (!std::isfinite(e)) {
      s[0] = kStatusInvalid;
      s[1] = s[2] = s[3] = 0;
      return;
    }
    e0 = static_cast<int64_t>(e);
  }
  std::vector<int64_t> exps;
  for (int64_t e = e0; e < e0 + 5; ++e) exps.push_back(e);
  auto best_of = [&](int method) {
    const std::vector<double> loss = pot_candidate_losses(*input, exps, method, scheme_.quant_min(), scheme_.quant_max());
    double best = INFINITY;
    int64_t chosen = e0;
    for (size_t j = 0; j < exps.size(); ++j)
      if (loss[j] < best) best = loss[j], chosen = exps[j];
    return chosen;
  };
  s[0] = kStatusValid;
  s[1] = e0;
  s[2] = best_of(3);
  s[3] = best_of(2);
}

int64_t PotSearchObserver::vote(int64_t exponent) {
  int64_t* c = counter_.data_ptr<int64_t>();
  const int64_t slots = counter_.numel();
  if (compat_) {
    int64_t idx = exponent + 7;
    if (idx < 0) idx += slots;  // Python's negative index (MQBench bug, spec §8.17)
    if (idx < 0)
      throw DataError(class_name() + ": exponent " + std::to_string(exponent) +
                      " is outside MQBench's 20-slot counter (IndexError in MQBench); drop "
                      "mqbench_compat to use the full exponent range");
    ++c[idx];
    return std::max_element(c, c + slots) - c - 7;
  }
  ++c[exponent - kMinExponent];
  return std::max_element(c, c + slots) - c + kMinExponent;
}

QParams PotSearchObserver::calculate_qparams() {
  if (quant_type_ == QuantType::Unset)
    throw ConfigError(class_name() + ": quant_type is not set; set it to input, param or tensor "
                      "(the quantizer does this; on the command line use --quant-type)");
  const int64_t* s = search_.data_ptr<int64_t>();
  if (s[0] == kStatusNoData) return {at::full({1}, 1.0f, at::kFloat), at::zeros({1}, at::kInt)};
  if (s[0] == kStatusInvalid)
    throw DataError(class_name() + ": the power-of-two search has no finite start: max(min_val / quant_min, "
                    "max_val / quant_max) is NaN or infinite (an asymmetric range with quant_min = 0 and "
                    "min_val >= 0); these Vitis observers need a symmetric qscheme");
  int64_t e = quant_type_ == QuantType::Input ? s[1] : quant_type_ == QuantType::Param ? s[2] : s[3];
  e = std::min(e, kMaxExponent);
  if (e < kMinExponent) e = kMinExponent;  // 2^128 would overflow float32
  if (variant_ == Variant::Mode) e = vote(e);
  const float scale = static_cast<float>(1.0 / std::ldexp(1.0, static_cast<int>(e)));
  QParams q{at::full({1}, scale, at::kFloat), at::zeros({1}, at::kInt)};
  if (!scheme_.symmetric && min_val_.item<float>() >= 0.0f)
    q.zero_point = at::full({1}, static_cast<float>(scheme_.quant_min()) -
                                     std::nearbyint(min_val_.item<float>() / scale), at::kFloat);
  return q;
}

}  // namespace mqb
