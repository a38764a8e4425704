// Search-based observers of the helper layer, shared by several plugins:
//  - MseSearchObserver: MQBench's MSEObserver / EMAMSEObserver range search;
//  - PotSearchObserver: the Vitis-AI power-of-two search of MinMaxFloorObserver,
//    EMAMinMaxFloorObserver and PoTModeObserver.
// Plugins only choose the variant and name; the mathematics lives here once.
#pragma once
#include "mqb/observer_base.h"

namespace mqb {

// Per batch: per-tensor (or per-channel) extrema (lo, hi); candidates
// (lo * f_i, hi * f_i) with f_i = float(1 - 0.01 i), i < iters (95 per-tensor, 80
// per-channel); each candidate's qparams (spec §0.4) fake-quantize the batch (per
// channel: that channel's elements) and the first strictly smallest mean |fq(x)-x|^p
// wins. Batches accumulate as running extrema (MSEObserver) or EMA (EMAMSEObserver).
// Parameters: p (2.0), iters_per_tensor (95), iters_per_channel (80), ema_ratio (0.9, EMA only).
class MQB_API MseSearchObserver : public ObserverBase {
 public:
  MseSearchObserver(const ObserverArgs& args, std::string class_name, bool ema);
  void observe(const at::Tensor& x) override;

  // The search alone on one batch: the chosen (lo, hi) per channel.
  std::pair<std::vector<float>, std::vector<float>> search(const at::Tensor& x) const;

 private:
  bool ema_;
  double ema_ratio_ = 0.9;
  double p_ = 2.0;
  int64_t iters_per_tensor_ = 95;
  int64_t iters_per_channel_ = 80;
};

// Vitis-AI's power-of-two search (spec §3.10/§3.11). observe() keeps the extrema
// (overwrite, or EMA for EMAMinMaxFloorObserver) and runs the search on the batch at
// once, storing its results as state (so no batch copy is kept): pot_search [C, 4] =
// [status, e0, best exponent for 'param', best exponent for 'tensor'] per channel.
// calculate_qparams picks by quant_type ('input' -> e0), caps at 12, s = 2^-e.
// PoTModeObserver votes the exponent into a counter and returns the mode.
// Per-channel schemes search one exponent per channel (beyond MQBench).
// Parameters: ema_ratio (EMA variant); mqbench_compat: per-channel schemes fall back to
// one scale per tensor as MQBench, and PoTMode uses MQBench's 20-slot counter with its
// negative index wrap (default: one slot per exponent -128..12).
class MQB_API PotSearchObserver : public ObserverBase {
 public:
  enum class Variant { Floor, EmaFloor, Mode };
  PotSearchObserver(const ObserverArgs& args, std::string class_name, Variant variant);
  void observe(const at::Tensor& x) override;
  QParams calculate_qparams() override;
  void set_quant_type(QuantType t) override { quant_type_ = t; }
  QuantType quant_type() const override { return quant_type_; }

  static constexpr int64_t kCompatSlots = 20;    // exponents -7..12 (MQBench)
  static constexpr int64_t kMinExponent = -128;  // default counter: -128..12
  static constexpr int64_t kMaxExponent = 12;    // MQBench caps the exponent here

 private:
  int64_t vote(int64_t channel, int64_t exponent);
  bool per_channel() const { return scheme_.per_channel && !compat_; }
  Variant variant_;
  double ema_ratio_ = 0.9;
  bool compat_ = false;
  QuantType quant_type_ = QuantType::Unset;
  at::Tensor search_;   // int64 [C, 4]
  at::Tensor counter_;  // int64 [C, slots] (Mode only)
};

}  // namespace mqb
