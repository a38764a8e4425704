// Quantizer checks: parameters, calibration passes data through, forward against the
// affine formula (for affine quantizers), outputs on the quantizer's own grid,
// per-channel, determinism, state round trip, finite-difference gradients of the
// input and of every learnable tensor, empty and NaN inputs.
#include <ATen/TensorOperators.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/abs.h>
#include <ATen/ops/clamp.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/isfinite.h>
#include <ATen/ops/isnan.h>
#include <ATen/ops/round.h>
#include <ATen/ops/sign.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "check_tensors.h"
#include "kind_checks.h"
#include "mqb/fake_quant_kernels.h"

namespace mqb::check {
namespace {

constexpr int kBatches = 3;

const char* form_name(DeployForm f) {
  switch (f) {
    case DeployForm::Affine: return "affine";
    case DeployForm::NNIELog: return "NNIE log";
    case DeployForm::Identity: return "identity";
    case DeployForm::NonUniform: return "non-uniform";
  }
  return "?";
}

std::string num(double v) {
  std::ostringstream os;
  os.precision(4);
  os << v;
  return os.str();
}

// ATen's fake_quantize_per_{tensor,channel}_affine, written out independently:
// (clamp(round(x * (1/s)) + z, qmin, qmax) - z) * s in float32, zero point rounded.
at::Tensor affine_reference(const at::Tensor& x, const QParams& q, const QScheme& scheme) {
  const std::vector<int64_t> shape = scheme.per_channel ? channel_view_shape(x, scheme.ch_axis) : std::vector<int64_t>{};
  const at::Tensor s = q.scale.detach().to(at::kFloat).reshape(shape);
  const at::Tensor z = at::round(q.zero_point.detach().to(at::kFloat))
                           .clamp(static_cast<double>(scheme.quant_min()), static_cast<double>(scheme.quant_max()))
                           .reshape(shape);
  const at::Tensor inv = s.reciprocal();
  const at::Tensor code = at::clamp(at::round(x * inv) + z, static_cast<double>(scheme.quant_min()),
                                    static_cast<double>(scheme.quant_max()));
  return (code - z) * s;
}

double loss(FakeQuantize& fq, const at::Tensor& x, const at::Tensor& g) {
  at::NoGradGuard no_grad;
  return (fq.forward(x).to(at::kDouble) * g.to(at::kDouble)).sum().item<double>();
}

}  // namespace

void check_quantizer(Registry& registry, const std::string& name, const PluginCheckOptions& o, Recorder& rec) {
  const auto make = [&](const QScheme& s, const Params& p) {
    auto fq = registry.create_quantizer(name, s, p, o.observer, o.observer_params);
    fq->set_quant_type(QuantType::Input);  // our batches are activations
    return fq;
  };
  check_rejects_unknown_parameter(rec, o.plugin_params,
                                  [&](const Params& p) { make(checked_schemes()[0].scheme, p); });

  std::vector<at::Tensor> batches;
  for (int i = 0; i < kBatches; ++i) batches.push_back(sample_batch(o.seed, i));
  const auto calibrate = [&](FakeQuantize& fq) {
    at::NoGradGuard no_grad;
    fq.set_mode(QuantMode::Calibrate);
    for (const auto& b : batches) fq.forward(b);
    fq.set_mode(QuantMode::Quantize);
  };

  // The quantizer's own input transform (DoReFa's tanh normalisation, PACT's clip):
  // its output with observer and fake quantization both off.
  const auto transform = [](FakeQuantize& fq, const at::Tensor& x) {
    at::NoGradGuard no_grad;
    fq.set_mode(QuantMode::Disabled);
    at::Tensor t = fq.forward(x);
    fq.set_mode(QuantMode::Quantize);
    return t;
  };
  // Affine quantizers' qparams must be usable; other forms (NNIE's data_max, APoT's
  // clip) define their own meaning.
  const auto qparams_check = [&](FakeQuantize& fq, const QScheme& scheme, int64_t channels) {
    return fq.deploy_form() == DeployForm::Affine ? qparams_problem(fq.qparams(), scheme, channels) : std::string();
  };

  int supported = 0;
  for (const auto& [sname, scheme] : checked_schemes()) {
    const int64_t channels = scheme.per_channel ? batches[0].size(0) : 1;
    const auto calibrated = [&, &scheme = scheme]() {
      auto fq = make(scheme, o.plugin_params);
      calibrate(*fq);
      return fq;
    };
    if (!scheme_supported(rec, sname, scheme, [&] {
          auto fq = calibrated();
          at::NoGradGuard no_grad;
          fq->forward(batches[0]);
        }))
      continue;
    ++supported;

    rec.run(sname + ".calibration", [&]() -> std::string {
      auto fq = make(scheme, o.plugin_params);
      fq->set_mode(QuantMode::Calibrate);
      at::NoGradGuard no_grad;
      bool identity = true;
      for (const auto& b : batches) {
        const at::Tensor y = fq->forward(b);
        expect(y.sizes() == b.sizes() && at::isfinite(y).all().item<bool>(),
               "calibration output has another shape or non-finite values");
        identity = identity && bit_difference(y, b).empty();
      }
      const std::string why = qparams_check(*fq, scheme, channels);
      expect(why.empty(), "qparams after calibration: " + why);
      const QParams q = fq->qparams();
      return std::string(identity ? "output = input" : "output = the quantizer's input transform") + "; scale " +
             preview(q.scale) + ", zero point " + preview(q.zero_point);
    });

    rec.run(sname + ".forward_affine", [&]() -> std::string {
      auto fq = calibrated();
      if (fq->deploy_form() != DeployForm::Affine)
        skip(std::string("deploy form is ") + form_name(fq->deploy_form()) + ", not affine");
      const at::Tensor x = batches[2].mul(1.2);  // some values beyond the calibrated range
      at::Tensor y;
      {
        at::NoGradGuard no_grad;
        y = fq->forward(x);
      }
      const QParams q = fq->qparams();
      const at::Tensor ref = affine_reference(transform(*fq, x), q, scheme);
      expect(y.sizes() == x.sizes(), "output shape differs from the input's");
      const at::Tensor step = q.scale.detach().to(at::kFloat).max();
      const at::Tensor diff = (y - ref).abs();
      const int64_t off = (diff > step.mul(1e-4)).sum().item<int64_t>();
      const double worst = diff.max().item<double>() / step.item<double>();
      // Rounding ties may land one step apart when a plugin computes x / s instead of x * (1 / s).
      expect(off * 1000 <= x.numel() && worst <= 1.0001,
             std::to_string(off) + " of " + std::to_string(x.numel()) +
                 " elements differ from (clamp(round(x/s)+z) - z)*s with the quantizer's own qparams, by up to " +
                 num(worst) + " steps");
      return std::to_string(x.numel() - off) + "/" + std::to_string(x.numel()) + " elements exact" +
             (off ? " (the rest one step apart at rounding ties)" : "");
    });

    rec.run(sname + ".output_on_grid", [&]() -> std::string {
      auto fq = calibrated();
      at::NoGradGuard no_grad;
      const at::Tensor y = fq->forward(batches[2].mul(1.2));
      if (!bit_difference(transform(*fq, y), y).empty())
        skip("the quantizer transforms its input before quantizing (e.g. DoReFa's tanh), so "
             "quantizing an output again is not the identity");
      const at::Tensor y2 = fq->forward(y);
      const double tol = 1e-3 * fq->qparams().scale.detach().to(at::kDouble).abs().max().item<double>();
      const double worst = (y2 - y).abs().max().item<double>();
      expect(worst <= tol, "quantizing an output again moves it by " + num(worst) +
                               ": outputs are not on the quantizer's own levels");
      return "q(q(x)) = q(x) within " + num(tol);
    });

    rec.run(sname + ".deterministic", [&]() -> std::string {
      std::vector<std::vector<at::Tensor>> runs;
      for (int r = 0; r < 2; ++r) {
        auto fq = calibrated();
        const at::Tensor x = batches[2].clone().requires_grad_(true);
        const at::Tensor y = fq->forward(x);
        (y * normal_like(y, o.seed)).sum().backward();
        std::vector<at::Tensor> got{y.detach(), x.grad()};
        for (auto& [n, p] : fq->parameters()) got.push_back(p.grad().defined() ? p.grad() : at::empty({0}));
        runs.push_back(got);
      }
      for (size_t i = 0; i < runs[0].size(); ++i) {
        const std::string d = bit_difference(runs[0][i], runs[1][i]);
        expect(d.empty(), std::string(i == 0 ? "outputs" : i == 1 ? "input gradients" : "parameter gradients") +
                              " of two identical runs differ: " + d);
      }
      return "outputs and gradients bit-identical";
    });

    rec.run(sname + ".state_round_trip", [&]() -> std::string {
      auto a = calibrated();
      auto b = make(scheme, o.plugin_params);
      b->load_state(a->state());
      a->set_mode(QuantMode::Quantize);
      b->set_mode(QuantMode::Quantize);
      std::string d = state_difference(a->state(), b->state());
      expect(d.empty(), "state after load_state differs: " + d);
      at::NoGradGuard no_grad;
      d = bit_difference(a->forward(batches[1]), b->forward(batches[1]));
      expect(d.empty(), "forward after load_state differs: " + d);
      expect_unknown_state_key_refused(*b, a->state());
      return std::to_string(a->state().size()) + " tensors bit-exact, same forward; an unknown key is refused";
    });

    rec.run(sname + ".gradient_input", [&]() -> std::string {
      auto fq = calibrated();
      const at::Tensor x0 = batches[0];
      const at::Tensor g = normal_like(x0, o.seed + 1);
      const at::Tensor x = x0.clone().requires_grad_(true);
      (fq->forward(x) * g).sum().backward();
      expect(x.grad().defined(), "no gradient reaches the input");
      // Directional derivative along g with a step of a few quantization steps: the
      // staircase's slope averages to the straight-through gradient (1 inside the range).
      const double analytic = (x.grad().to(at::kDouble) * g.to(at::kDouble)).sum().item<double>();
      const double h = 0.02 * x0.abs().max().item<double>();
      const double numeric = (loss(*fq, x0 + g * h, g) - loss(*fq, x0 - g * h, g)) / (2 * h);
      const double err = std::abs(analytic - numeric) / std::max({std::abs(analytic), std::abs(numeric), 1e-12});
      expect(err <= 0.15, "d/dh L(x + h g) = " + num(numeric) + " by finite differences, " + num(analytic) +
                              " by autograd (relative error " + num(err) + ")");
      return "autograd " + num(analytic) + ", finite differences " + num(numeric);
    });

    rec.run(sname + ".gradient_parameters", [&]() -> std::string {
      auto fq = calibrated();
      if (fq->parameters().empty()) skip("no learnable tensors");
      // Twice the calibrated range: many clipped elements, whose gradient with respect
      // to the clip parameters is exact; inside the range the rounding noise averages out.
      const at::Tensor x0 = batches[0].mul(2.0);
      const at::Tensor g = at::sign(x0);
      const at::Tensor x = x0.clone();
      for (auto& [n, p] : fq->parameters()) p.mutable_grad() = at::Tensor();
      (fq->forward(x) * g).sum().backward();
      std::ostringstream report;
      for (auto& [pname, p] : fq->parameters()) {
        expect(p.grad().defined(), "parameter '" + pname + "' receives no gradient");
        const at::Tensor grad = p.grad().detach().to(at::kDouble).reshape({-1});
        const int64_t n = p.numel(), picks = std::min<int64_t>(n, 8);
        at::Tensor flat = p.detach().view({-1});
        // Central difference of the loss in component i with step h; false when the
        // quantizer overwrote the value during forward (not a free parameter here).
        const auto central = [&](int64_t i, float orig, double h, double& out) {
          at::NoGradGuard no_grad;
          flat[i].fill_(orig + h);
          const double lp = loss(*fq, x0, g);
          const bool kept = flat[i].item<float>() == static_cast<float>(orig + h);
          flat[i].fill_(orig - h);
          const double lm = loss(*fq, x0, g);
          flat[i].fill_(orig);
          out = (lp - lm) / (2 * h);
          return kept;
        };
        double dot = 0, aa = 0, nn = 0, first_numeric = 0;
        int overwritten = 0, unit_steps = 0;
        for (int64_t k = 0; k < picks; ++k) {
          const int64_t i = k * n / picks;
          const float orig = flat[i].item<float>();
          const double analytic = grad[i].item<double>();
          // Zero points act through rounding: step by whole units; others by 1 %.
          const bool whole = pname.find("zero_point") != std::string::npos;
          double numeric = 0;
          if (!central(i, orig, whole ? 1.0 : 0.01 * std::max(std::abs(orig), 1e-3f), numeric)) {
            ++overwritten;
            continue;
          }
          // A parameter used through rounding (TQT's log2 threshold) is flat for small
          // steps: retry with a unit step, which checks the direction only.
          if (numeric == 0 && analytic != 0 && !whole) {
            central(i, orig, 1.0, numeric);
            ++unit_steps;
          }
          if (k == 0) first_numeric = numeric;
          dot += numeric * analytic;
          aa += analytic * analytic;
          nn += numeric * numeric;
        }
        if (overwritten == picks) {
          report << pname << ": reset by every forward under this scheme (not learned); ";
          continue;
        }
        if (aa < 1e-20 && nn < 1e-20) {
          report << pname << ": zero by both; ";
          continue;
        }
        const double cosine = dot / std::sqrt(std::max(aa * nn, 1e-300));
        const double ratio = std::sqrt(aa / std::max(nn, 1e-300));
        // Published surrogates scale on purpose (LSQ: 1 / sqrt(elements * qmax), per
        // tensor or per channel; PACT counts only clipped elements): the direction must
        // agree, the magnitude ratio is reported.
        expect(cosine >= 0.9, "'" + pname + "': autograd and finite differences disagree in direction over " +
                                  std::to_string(picks) + " component(s) (first: " + num(grad[0].item<double>()) +
                                  " vs " + num(first_numeric) + "): cosine " + num(cosine) + " (accepted: >= 0.9)");
        report << pname << ": cosine " << num(cosine) << ", magnitude ratio " << num(ratio)
               << (unit_steps ? " (unit steps: used through rounding)" : "") << "; ";
      }
      return report.str();
    });

    rec.run(sname + ".empty_input", [&]() -> std::string {
      auto fq = calibrated();
      at::NoGradGuard no_grad;
      const at::Tensor e = at::empty({16, 0}, at::kFloat);
      at::Tensor y;
      try {
        y = fq->forward(e);
      } catch (const Error& err) {
        return std::string("refused: ") + err.what();
      }
      expect(y.defined() && y.sizes() == e.sizes(), "an empty input gave a non-empty or undefined output");
      const std::string why = qparams_check(*fq, scheme, channels);
      expect(why.empty(), "an empty input spoiled the qparams: " + why);
      return "empty output";
    });

    rec.run(sname + ".nan_input", [&]() -> std::string {
      auto fq = calibrated();
      at::Tensor bad = batches[1].clone();
      bad.view({-1})[5] = std::numeric_limits<float>::quiet_NaN();
      at::NoGradGuard no_grad;
      std::string how;
      try {
        const at::Tensor y = fq->forward(bad);
        const at::Tensor others = y.masked_select(at::isfinite(bad));
        expect(at::isfinite(others).all().item<bool>(), "one NaN input made other outputs non-finite");
        how = "quantize mode: NaN stays local";
      } catch (const Error& e) {
        how = "quantize mode: refused";
      }
      fq->set_mode(QuantMode::Calibrate);
      try {
        fq->forward(bad);
        how += "; calibration: accepted";
      } catch (const Error& e) {
        how += "; calibration: refused";
      }
      const std::string why = qparams_check(*fq, scheme, channels);
      expect(why.empty(), "a calibration batch with one NaN made the qparams unusable: " + why);
      return how;
    });
  }
  require_some_scheme(rec, supported);
}

}  // namespace mqb::check
