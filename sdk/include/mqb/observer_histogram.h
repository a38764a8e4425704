// Histogram calibrators of the helper layer (beyond MQBench): one accumulating
// histogram of |x| per channel, and three ways to pick a clipping magnitude T from
// it. The final range is [max(min_val, -T), min(max_val, T)] -> spec §0.4 qparams.
//  - Percentile: T = the `percentile` % point of |x| (linear inside a bin).
//  - Entropy: TensorRT's entropy calibration: T minimises KL(P || Q) between the
//    clipped reference distribution P (outliers folded into the last bin) and its
//    quantization Q onto the scheme's levels.
//  - Mse: T minimises the expected squared error estimated from the histogram
//    (each bin sampled at 4 points; clipped mass costs its distance to T).
// Accumulation: the histogram covers [0, R] with R the running max |x|; when a batch
// exceeds R, the old counts are spread onto the wider bins by overlap (uniform
// within a bin), then the batch is added with torch.histc's binning.
#pragma once
#include "mqb/observer_base.h"

namespace mqb {

class MQB_API HistogramObserver : public ObserverBase {
 public:
  enum class Method { Percentile, Entropy, Mse };
  HistogramObserver(const ObserverArgs& args, std::string class_name, Method method);
  void observe(const at::Tensor& x) override;
  QParams calculate_qparams() override;

  // The clipping magnitude per channel for the current histogram (exposed for tests).
  std::vector<double> clip_magnitudes() const;

 private:
  double levels(size_t channel) const;  // quantization steps spanning [0, T]
  double choose(const double* hist, double range, double levels) const;
  Method method_;
  int64_t bins_ = 2048;
  double percentile_ = 99.99;
  int64_t candidates_ = 100;
  at::Tensor hist_;       // float64 [C, bins]
  at::Tensor hist_max_;   // float32 [C]
};

}  // namespace mqb
