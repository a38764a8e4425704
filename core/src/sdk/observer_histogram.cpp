// Histogram calibrators: percentile, entropy (KL) and histogram-MSE (see
// mqb/observer_histogram.h for the algorithms).
#include "mqb/observer_histogram.h"

#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>

#include <algorithm>
#include <cmath>

#include "mqb/observer_kernels.h"

namespace mqb {

HistogramObserver::HistogramObserver(const ObserverArgs& args, std::string class_name, Method method)
    : ObserverBase(args, class_name), method_(method) {
  const Params& p = args.params;
  bins_ = p.integer("bins", 2048);
  p.require(bins_ >= 16 && bins_ <= 65536, "bins", "an integer in 16..65536");
  if (method_ == Method::Percentile) {
    percentile_ = p.real("percentile", 99.99);
    p.require(percentile_ > 0 && percentile_ <= 100, "percentile", "a number in (0, 100]");
  }
  if (method_ == Method::Mse) {
    candidates_ = p.integer("candidates", 100);
    p.require(candidates_ >= 2 && candidates_ <= 10000, "candidates", "an integer in 2..10000");
  }
  p.reject_unknown(class_name);
  register_state("histogram", &hist_, [] { return at::zeros({0}, at::kDouble); });
  register_state("histogram_max", &hist_max_, [] { return at::zeros({0}, at::kFloat); });
}

void HistogramObserver::observe(const at::Tensor& x) {
  auto input = prepare_input(x);
  if (!input) return;
  const int axis = stat_axis();
  const ChannelStats st = channel_stats(*input, axis, kStatsMinMax, class_name());
  const int64_t C = static_cast<int64_t>(st.min.size());
  if (hist_.numel() != 0 && hist_.size(0) != C)
    throw DataError(class_name() + ": the batch has " + std::to_string(C) + " channels, earlier batches had " +
                    std::to_string(hist_.size(0)));
  at::Tensor hist = hist_.numel() ? hist_.clone() : at::zeros({C, bins_}, at::kDouble);
  std::vector<float> old_max = hist_max_.numel() ? to_float_vector(hist_max_) : std::vector<float>(C, 0.0f);
  std::vector<float> range(C);
  double* h = hist.data_ptr<double>();
  for (int64_t c = 0; c < C; ++c) {
    range[c] = std::max({old_max[c], -st.min[c], st.max[c]});
    if (range[c] > old_max[c] && old_max[c] > 0) {
      // Spread the old bins over the wider ones by overlap (uniform within a bin).
      std::vector<double> grown(bins_, 0.0);
      const double w_old = old_max[c] / static_cast<double>(bins_), w_new = range[c] / static_cast<double>(bins_);
      for (int64_t i = 0; i < bins_; ++i) {
        const double cnt = h[c * bins_ + i];
        if (cnt == 0) continue;
        const double a = i * w_old, b = (i + 1) * w_old;
        for (int64_t j = static_cast<int64_t>(a / w_new); j < bins_ && j * w_new < b; ++j) {
          const double overlap = std::min(b, (j + 1) * w_new) - std::max(a, j * w_new);
          if (overlap > 0) grown[j] += cnt * overlap / w_old;
        }
      }
      std::copy(grown.begin(), grown.end(), h + c * bins_);
    }
  }
  const std::vector<int64_t> batch = abs_histogram(*input, axis, bins_, range);
  for (int64_t c = 0; c < C; ++c) {
    if (range[c] == 0) {  // all zeros so far: everything sits in bin 0
      h[c * bins_] += static_cast<double>(st.count);
      continue;
    }
    for (int64_t i = 0; i < bins_; ++i) h[c * bins_ + i] += static_cast<double>(batch[c * bins_ + i]);
  }
  hist_ = hist;
  hist_max_ = at::empty({C}, at::kFloat);
  std::copy(range.begin(), range.end(), hist_max_.data_ptr<float>());
  accumulate_running(float_tensor(st.min, scheme_.per_channel), float_tensor(st.max, scheme_.per_channel));
}

double HistogramObserver::levels(size_t c) const {
  const double span = static_cast<double>(scheme_.quant_max() - scheme_.quant_min());
  const std::vector<float> mn = to_float_vector(min_val_);
  const bool one_sided = !scheme_.symmetric && mn[std::min(c, mn.size() - 1)] >= 0.0f;
  return one_sided ? span : span / 2.0;
}

double HistogramObserver::choose(const double* h, double R, double nlevels) const {
  const int64_t B = bins_;
  double total = 0;
  for (int64_t i = 0; i < B; ++i) total += h[i];
  if (total <= 0 || R <= 0) return R;
  const double w = R / static_cast<double>(B);
  if (method_ == Method::Percentile) {
    const double target = total * percentile_ / 100.0;
    double cum = 0;
    for (int64_t i = 0; i < B; ++i) {
      if (h[i] > 0 && cum + h[i] >= target) return (static_cast<double>(i) + (target - cum) / h[i]) * w;
      cum += h[i];
    }
    return R;
  }
  if (method_ == Method::Entropy) {
    const int64_t nq = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(nlevels)));
    if (nq >= B) return R;  // as many levels as bins: nothing to gain by clipping
    double best_kl = INFINITY;
    int64_t best_i = B;
    std::vector<double> p(B), q(B);
    double outliers = total;
    for (int64_t i = 0; i < nq; ++i) outliers -= h[i];
    for (int64_t i = nq; i <= B; ++i) {
      // P: the first i bins, the mass beyond folded into the last one.
      std::copy(h, h + i, p.begin());
      p[i - 1] += outliers;
      // Q: the first i bins merged into nq levels, spread back over the non-empty bins.
      std::fill(q.begin(), q.begin() + i, 0.0);
      for (int64_t k = 0; k < nq; ++k) {
        const int64_t a = k * i / nq, b = (k + 1) * i / nq;
        double mass = 0;
        int64_t nonzero = 0;
        for (int64_t j = a; j < b; ++j) {
          mass += h[j];
          nonzero += h[j] > 0;
        }
        for (int64_t j = a; j < b; ++j)
          if (h[j] > 0) q[j] = mass / static_cast<double>(nonzero);
      }
      double ps = 0, qs = 0;
      for (int64_t j = 0; j < i; ++j) ps += p[j], qs += q[j];
      double kl = 0;
      for (int64_t j = 0; j < i; ++j) {
        if (p[j] <= 0) continue;
        const double pj = p[j] / ps, qj = q[j] > 0 ? q[j] / qs : 1e-12;
        kl += pj * std::log(pj / qj);
      }
      if (kl < best_kl) best_kl = kl, best_i = i;
      if (i < B) outliers -= h[i];
    }
    return static_cast<double>(best_i) * w;
  }
  // Mse: expected squared error over the histogram for candidates T = R * k / n.
  double best_err = INFINITY, best_t = R;
  for (int64_t k = candidates_; k >= 1; --k) {
    const double t = R * static_cast<double>(k) / static_cast<double>(candidates_);
    const double s = t / nlevels;
    double err = 0;
    for (int64_t i = 0; i < B; ++i) {
      if (h[i] <= 0) continue;
      double e = 0;
      for (int sub = 0; sub < 4; ++sub) {
        const double v = (static_cast<double>(i) + (sub + 0.5) / 4.0) * w;
        const double d = v > t ? v - t : v - s * std::nearbyint(v / s);
        e += d * d;
      }
      err += h[i] * e / 4.0;
    }
    if (err < best_err) best_err = err, best_t = t;
  }
  return best_t;
}

std::vector<double> HistogramObserver::clip_magnitudes() const {
  std::vector<double> out;
  if (hist_.numel() == 0) return out;
  const std::vector<float> range = to_float_vector(hist_max_);
  for (size_t c = 0; c < range.size(); ++c)
    out.push_back(choose(hist_.data_ptr<double>() + c * bins_, range[c], levels(c)));
  return out;
}

QParams HistogramObserver::calculate_qparams() {
  if (!has_data()) return ObserverBase::calculate_qparams();
  const std::vector<double> t = clip_magnitudes();
  std::vector<float> lo = to_float_vector(min_val_), hi = to_float_vector(max_val_);
  for (size_t c = 0; c < lo.size(); ++c) {
    const float tc = static_cast<float>(t[c]);
    lo[c] = std::min(std::max(lo[c], -tc), hi[c]);
    hi[c] = std::max(std::min(hi[c], tc), lo[c]);
  }
  QParams q = qparams_from_minmax(float_tensor(lo, scheme_.per_channel), float_tensor(hi, scheme_.per_channel),
                                  scheme_, class_name());
  if (scheme_.pot_scale) q.scale = round_scale_to_pot(q.scale);
  return q;
}

}  // namespace mqb
