// Observer checks: parameters, qparams per tensor and per channel, the range against
// the data, determinism, state round trip, reset, empty and NaN batches.
#include <ATen/TensorOperators.h>
#include <ATen/ops/amax.h>
#include <ATen/ops/amin.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/isfinite.h>
#include <ATen/ops/stack.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "check_tensors.h"
#include "kind_checks.h"
#include "mqb/qparams_math.h"

namespace mqb::check {
namespace {

constexpr int kBatches = 3;

// The data's per-channel (dim 0) or global extrema over all batches.
std::pair<at::Tensor, at::Tensor> data_range(const std::vector<at::Tensor>& batches, bool per_channel) {
  const at::Tensor all = at::stack(batches, 1);  // [16, B, ...]: channel stays dim 0
  if (!per_channel) return {all.min(), all.max()};
  const at::Tensor flat = all.reshape({all.size(0), -1});
  return {at::amin(flat, {1}), at::amax(flat, {1})};
}

}  // namespace

void check_observer(Registry& registry, const std::string& name, const PluginCheckOptions& o, Recorder& rec) {
  // Our batches are activations: observers that distinguish inputs from weights (the
  // floor and power-of-two ones) are told so, as a quantizer would.
  const auto make = [&](const QScheme& s, const Params& p) {
    auto obs = registry.create_observer(name, {s, p});
    obs->set_quant_type(QuantType::Input);
    return obs;
  };
  check_rejects_unknown_parameter(rec, o.plugin_params, [&](const Params& p) { make(checked_schemes()[0].scheme, p); });

  rec.run("before_data.qparams", [&]() -> std::string {
    auto obs = make(checked_schemes()[0].scheme, o.plugin_params);
    const QParams q = obs->calculate_qparams();
    const std::string why = qparams_problem(q, obs->qscheme(), 1);
    expect(why.empty(), "qparams before any data: " + why);
    return "scale " + preview(q.scale) + ", zero point " + preview(q.zero_point);
  });

  std::vector<at::Tensor> batches;
  for (int i = 0; i < kBatches; ++i) batches.push_back(sample_batch(o.seed, i));

  int supported = 0;
  for (const auto& [sname, scheme] : checked_schemes()) {
    const int64_t channels = scheme.per_channel ? batches[0].size(0) : 1;
    const auto calibrated = [&, &scheme = scheme]() {
      auto obs = make(scheme, o.plugin_params);
      for (const auto& b : batches) obs->observe(b);
      return obs;
    };
    if (!scheme_supported(rec, sname, scheme, [&] { calibrated()->calculate_qparams(); })) continue;
    ++supported;

    rec.run(sname + ".qparams_valid", [&]() -> std::string {
      auto obs = calibrated();
      const QParams q = obs->calculate_qparams();
      const std::string why = qparams_problem(q, scheme, channels);
      expect(why.empty(), why);
      return "scale " + preview(q.scale) + ", zero point " + preview(q.zero_point);
    });

    rec.run(sname + ".range_within_data", [&]() -> std::string {
      auto obs = calibrated();
      const at::Tensor lo = obs->min_val().to(at::kDouble).reshape({-1});
      const at::Tensor hi = obs->max_val().to(at::kDouble).reshape({-1});
      expect(lo.numel() == channels && hi.numel() == channels,
             "min_val/max_val have " + std::to_string(lo.numel()) + " value(s), expected " + std::to_string(channels));
      expect(at::isfinite(lo).all().item<bool>() && at::isfinite(hi).all().item<bool>(),
             "range not finite: min " + preview(lo) + ", max " + preview(hi));
      expect((lo <= hi).all().item<bool>(), "min_val > max_val: " + preview(lo) + " vs " + preview(hi));
      auto [dlo, dhi] = data_range(batches, scheme.per_channel);
      const at::Tensor slack = (dhi.to(at::kDouble) - dlo.to(at::kDouble)).mul(1e-5);
      expect((lo >= dlo.to(at::kDouble) - slack).all().item<bool>() && (hi <= dhi.to(at::kDouble) + slack).all().item<bool>(),
             "observed range [" + preview(lo) + ", " + preview(hi) + "] exceeds the data's [" + preview(dlo) + ", " +
                 preview(dhi) + "]");
      return "min " + preview(lo) + ", max " + preview(hi);
    });

    rec.run(sname + ".grid_covers_range", [&]() -> std::string {
      auto obs = calibrated();
      const QParams q = obs->calculate_qparams();
      // Only observers whose qparams are MQBench's function of their own range claim
      // to cover it; searches (LSQ, MSE on other statistics) pick a clip on purpose.
      const QParams from_range = qparams_from_minmax(obs->min_val(), obs->max_val(), scheme, name);
      if (!bit_difference(q.scale.reshape({-1}).to(at::kFloat), from_range.scale.reshape({-1})).empty())
        skip("qparams are not derived from min_val/max_val (the observer clips on purpose)");
      // Independent of the SDK: the grid [(qmin - z) s, (qmax - z) s] must contain
      // [min(min_val, 0), max(max_val, 0)] up to half a step.
      const at::Tensor s = q.scale.to(at::kDouble).reshape({-1}), z = q.zero_point.to(at::kDouble).reshape({-1});
      const at::Tensor glo = (static_cast<double>(scheme.quant_min()) - z) * s;
      const at::Tensor ghi = (static_cast<double>(scheme.quant_max()) - z) * s;
      const at::Tensor lo = obs->min_val().to(at::kDouble).reshape({-1}).clamp_max(0);
      const at::Tensor hi = obs->max_val().to(at::kDouble).reshape({-1}).clamp_min(0);
      // Half a step (plus float rounding): MQBench's symmetric grid ends at qmax * s =
      // max * 127 / 127.5, half a step short of max.
      const at::Tensor half = s * 0.5001;
      expect((glo <= lo + half).all().item<bool>() && (ghi >= hi - half).all().item<bool>(),
             "grid [" + preview(glo) + ", " + preview(ghi) + "] does not cover the range [" + preview(lo) + ", " +
                 preview(hi) + "]");
      return "grid [" + preview(glo) + ", " + preview(ghi) + "]";
    });

    rec.run(sname + ".deterministic", [&]() -> std::string {
      auto a = calibrated(), b = calibrated();
      const QParams qa = a->calculate_qparams(), qb = b->calculate_qparams();
      std::string d = bit_difference(qa.scale, qb.scale) + bit_difference(qa.zero_point, qb.zero_point);
      expect(d.empty(), "two instances fed the same batches disagree: " + d);
      d = state_difference(a->state(), b->state());
      expect(d.empty(), "two instances fed the same batches have different state: " + d);
      return "bit-identical qparams and state";
    });

    rec.run(sname + ".state_round_trip", [&]() -> std::string {
      auto a = calibrated();
      auto b = make(scheme, o.plugin_params);
      b->load_state(a->state());
      std::string d = state_difference(a->state(), b->state());
      expect(d.empty(), "state after load_state differs: " + d);
      const QParams qa = a->calculate_qparams(), qb = b->calculate_qparams();
      d = bit_difference(qa.scale, qb.scale) + bit_difference(qa.zero_point, qb.zero_point);
      expect(d.empty(), "qparams after load_state differ: " + d);
      // Continuing from the loaded state gives what continuing the original gives.
      a->observe(batches[0].mul(1.5));
      b->observe(batches[0].mul(1.5));
      d = state_difference(a->state(), b->state());
      expect(d.empty(), "observing after load_state diverges: " + d);
      expect_unknown_state_key_refused(*b, a->state());
      return std::to_string(a->state().size()) + " tensors bit-exact; an unknown key is refused";
    });

    rec.run(sname + ".reset", [&]() -> std::string {
      auto a = calibrated();
      a->reset();
      auto fresh = make(scheme, o.plugin_params);
      const std::string d = state_difference(fresh->state(), a->state());
      expect(d.empty(), "state after reset() differs from a new instance's: " + d);
      return "state equals a new instance's";
    });

    rec.run(sname + ".empty_input", [&]() -> std::string {
      auto a = calibrated();
      const StateDict before = a->state();
      a->observe(at::empty({16, 0}, at::kFloat));
      const std::string d = state_difference(before, a->state());
      expect(d.empty(), "an empty batch changed the state: " + d);
      return "ignored";
    });

    rec.run(sname + ".nan_input", [&]() -> std::string {
      auto a = calibrated();
      at::Tensor bad = batches[1].clone();
      bad.view({-1})[5] = std::numeric_limits<float>::quiet_NaN();
      try {
        a->observe(bad);
      } catch (const Error& e) {
        const QParams q = a->calculate_qparams();
        const std::string why = qparams_problem(q, scheme, channels);
        expect(why.empty(), "refused the NaN batch but qparams are now unusable: " + why);
        return "refused: " + std::string(e.what()).substr(0, 120);
      }
      const QParams q = a->calculate_qparams();
      const std::string why = qparams_problem(q, scheme, channels);
      expect(why.empty(), "a batch with one NaN made the qparams unusable: " + why +
                              " (refuse it with mqb::DataError, or ignore NaNs)");
      return "accepted; qparams still usable";
    });
  }
  require_some_scheme(rec, supported);
}

}  // namespace mqb::check
