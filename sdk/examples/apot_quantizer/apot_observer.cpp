// APoTObserver: the clip value with the smallest APoT quantization error. Per batch
// (and per channel if the scheme says so) it tries alpha_i = max|x| * (1 - 0.01 i),
// i < candidates, on the APoT levels and keeps the smallest mean squared error; the
// range it reports is the data's range clipped to [-alpha, alpha] ([0, alpha] for
// unsigned schemes), accumulated over batches as running extrema.
#include <ATen/TensorOperators.h>
#include <ATen/ops/amax.h>
#include <ATen/ops/amin.h>
#include <ATen/ops/full_like.h>
#include <ATen/ops/isfinite.h>
#include <ATen/ops/maximum.h>
#include <ATen/ops/minimum.h>
#include <ATen/ops/ones_like.h>
#include <ATen/ops/where.h>
#include <ATen/ops/zeros_like.h>

#include <limits>

#include "apot_levels.h"
#include "mqb/observer_base.h"  // min/max state, qparams, save/load
#include "mqb/plugin.h"

class APoTObserver final : public mqb::ObserverBase {
 public:
  explicit APoTObserver(const mqb::ObserverArgs& a)
      : ObserverBase(a, "APoTObserver"), levels_(apot::levels_tensor(a.qscheme)) {
    candidates_ = a.params.integer("candidates", 80);  // from *_observer_extra_args
    a.params.require(candidates_ >= 1 && candidates_ <= 100, "candidates", "an integer in 1..100");
    a.params.reject_unknown("APoTObserver");
  }

  void observe(const at::Tensor& x) override {
    auto in = prepare_input(x);  // float32, contiguous; empty -> ignored
    if (!in) return;
    if (!at::isfinite(*in).all().item<bool>())
      throw mqb::DataError("APoTObserver: the batch holds NaN or Inf values; the range is left unchanged");
    // [C, N]: one row per channel (one row per tensor).
    const at::Tensor rows = scheme_.per_channel ? mqb::channels_first_2d(*in, scheme_.ch_axis) : in->reshape({1, -1});
    const bool sign = apot::is_signed(scheme_);
    const at::Tensor top = (sign ? rows.abs() : rows.clamp_min(0)).amax({1}).clamp_min(1e-8);
    at::Tensor best = top, best_err = at::full_like(top, std::numeric_limits<float>::infinity());
    for (int64_t i = 0; i < candidates_; ++i) {
      const at::Tensor a = top.mul(1.0 - 0.01 * static_cast<double>(i)).unsqueeze(1);
      const at::Tensor u = at::minimum(at::maximum(rows / a, at::full_like(a, sign ? -1.0 : 0.0)), at::ones_like(a));
      const at::Tensor err = (apot::quantize_unit(u, levels_) * a - rows).pow(2).mean({1});
      const at::Tensor better = err < best_err;  // first strictly smallest wins
      best = at::where(better, a.squeeze(1), best);
      best_err = at::where(better, err, best_err);
    }
    // The data's range clipped to the chosen alpha.
    at::Tensor lo = at::maximum(rows.amin({1}), sign ? best.neg() : at::zeros_like(best));
    at::Tensor hi = at::minimum(rows.amax({1}), best);
    if (!sign) lo = at::minimum(lo, best);
    if (!scheme_.per_channel) {
      lo = lo.reshape({});
      hi = hi.reshape({});
    }
    accumulate_running(lo, hi);
  }

 private:
  at::Tensor levels_;
  int64_t candidates_;
};

MQB_OBSERVER_PLUGIN(APoTObserver, "Clip value with the smallest APoT quantization error (per tensor or channel)",
                    APoTObserver)
