// MSE range search and the Vitis-AI power-of-two search (see mqb/observer_search.h).
#include "mqb/observer_search.h"

#include <ATen/ops/empty.h>
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
  compat_ = p.boolean("mqbench_compat", false);
  p.reject_unknown(class_name);
  register_state("pot_search", &search_, [] { return at::zeros({1, 4}, at::kLong); });
  if (variant_ == Variant::Mode) {
    const int64_t slots = compat_ ? kCompatSlots : kMaxExponent - kMinExponent + 1;
    register_state("counter", &counter_, [slots] { return at::zeros({1, slots}, at::kLong); });
  }
}

void PotSearchObserver::observe(const at::Tensor& x) {
  auto input = prepare_input(x);
  if (!input) return;
  const int axis = per_channel() ? scheme_.ch_axis : -1;
  const ChannelStats st = channel_stats(*input, axis, kStatsMinMax, class_name());
  const int64_t C = static_cast<int64_t>(st.min.size());
  const at::Tensor lo = float_tensor(st.min, per_channel()), hi = float_tensor(st.max, per_channel());
  if (variant_ == Variant::EmaFloor) {
    accumulate_ema(lo, hi, ema_ratio_);
  } else {
    min_val_ = lo;
    max_val_ = hi;
  }
  const std::vector<float> mn = to_float_vector(min_val_), mx = to_float_vector(max_val_);
  at::Tensor search = at::zeros({C, 4}, at::kLong);
  int64_t* s = search.data_ptr<int64_t>();
  constexpr int64_t K = 5;
  std::vector<int64_t> exps(C * K, 0);
  for (int64_t c = 0; c < C; ++c) {
    // b = max(min / qmin, max / qmax) with Python's max (NaN in the first place wins).
    const float q1 = mn[c] / static_cast<float>(scheme_.quant_min());
    const float q2 = mx[c] / static_cast<float>(scheme_.quant_max());
    const float b = q2 > q1 ? q2 : q1;
    int64_t e0 = 0;
    s[c * 4] = kStatusValid;
    if (!(b < std::ldexp(1.0f, -15))) {
      const float e = std::floor(std::log2(1.0f / b));
      if (std::isfinite(e)) e0 = static_cast<int64_t>(e);
      else s[c * 4] = kStatusInvalid;
    }
    s[c * 4 + 1] = e0;
    for (int64_t j = 0; j < K; ++j) exps[c * K + j] = e0 + j;
  }
  for (int method : {3, 2}) {
    const std::vector<double> loss =
        pot_candidate_losses(*input, axis, exps, K, method, scheme_.quant_min(), scheme_.quant_max());
    for (int64_t c = 0; c < C; ++c) {
      double best = INFINITY;
      int64_t chosen = exps[c * K];
      for (int64_t j = 0; j < K; ++j)
        if (loss[c * K + j] < best) best = loss[c * K + j], chosen = exps[c * K + j];
      s[c * 4 + (method == 3 ? 2 : 3)] = chosen;
    }
  }
  if (variant_ == Variant::Mode && counter_.size(0) != C) {
    if (counter_.sum().item<int64_t>() != 0)
      throw DataError(class_name() + ": this batch has " + std::to_string(C) + " channel(s), earlier batches had " +
                      std::to_string(counter_.size(0)));
    counter_ = at::zeros({C, counter_.size(1)}, at::kLong);
  }
  search_ = search;
}

int64_t PotSearchObserver::vote(int64_t channel, int64_t exponent) {
  const int64_t slots = counter_.size(1);
  int64_t* c = counter_.data_ptr<int64_t>() + channel * slots;
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
  const int64_t C = search_.size(0);
  const int64_t* s = search_.data_ptr<int64_t>();
  if (s[0] == kStatusNoData) return {at::full({1}, 1.0f, at::kFloat), at::zeros({1}, at::kInt)};
  for (int64_t c = 0; c < C; ++c)
    if (s[c * 4] == kStatusInvalid)
      throw DataError(class_name() + ": the power-of-two search has no finite start" +
                      (C > 1 ? " in channel " + std::to_string(c) : std::string()) +
                      ": max(min_val / quant_min, max_val / quant_max) is NaN or infinite (an asymmetric "
                      "range with quant_min = 0 and min_val >= 0); these Vitis observers need a symmetric qscheme");
  const std::vector<float> mn = to_float_vector(min_val_);
  std::vector<float> scale(C), zp(C, 0.0f);
  bool float_zero_point = false;
  const int col = quant_type_ == QuantType::Input ? 1 : quant_type_ == QuantType::Param ? 2 : 3;
  for (int64_t c = 0; c < C; ++c) {
    int64_t e = std::min(s[c * 4 + col], kMaxExponent);
    if (e < kMinExponent) e = kMinExponent;  // 2^128 would overflow float32
    if (variant_ == Variant::Mode) e = vote(c, e);
    scale[c] = static_cast<float>(1.0 / std::ldexp(1.0, static_cast<int>(e)));
    if (!scheme_.symmetric && mn[c] >= 0.0f) {
      zp[c] = static_cast<float>(scheme_.quant_min()) - std::nearbyint(mn[c] / scale[c]);
      float_zero_point = true;
    }
  }
  at::Tensor st = at::empty({C}, at::kFloat), zt = at::empty({C}, at::kFloat);
  std::copy(scale.begin(), scale.end(), st.data_ptr<float>());
  std::copy(zp.begin(), zp.end(), zt.data_ptr<float>());
  return {st, float_zero_point ? zt : zt.to(at::kInt)};
}

}  // namespace mqb
