// NNIEFakeQuantize: HiSilicon NNIE's logarithmic 8-bit codes (MQBench spec §4.4).
// The only state besides the observer is data_max, a running max of max(-min, max);
// the codes are 2^(k/16) with k an integer relative to z = round(16 log2 data_max) - 127,
// computed in double as MQBench does; the gradient is the identity.
#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/full.h>
#include <ATen/ops/maximum.h>

#include <algorithm>
#include <cmath>

#include "mqb/fake_quant_kernels.h"
#include "mqb/fake_quantize_base.h"
#include "mqb/plugin.h"

namespace {

// One element of MQBench's NNIEQuantizeFunc.forward (double arithmetic).
inline double nnie_code(double x, double z, double pos_threshold, double neg_threshold) {
  if (x > pos_threshold) {
    const double k = std::min(std::max(std::nearbyint(16.0 * std::log2(x)) - z, 0.0), 127.0);
    return std::pow(2.0, (k + z) / 16.0);
  }
  if (x < neg_threshold) {
    const double k = std::min(std::max(std::nearbyint(16.0 * std::log2(-x)) - z, 1.0), 127.0);
    return -std::pow(2.0, (k + z) / 16.0);
  }
  // MQBench's zero branch is neg_threshold <= x < pos_threshold; x == pos_threshold
  // (and NaN) fall in no branch and pass unchanged.
  if (x >= neg_threshold && x < pos_threshold) return 0.0;
  return x;
}

class NNIEFakeQuantize final : public mqb::FakeQuantizeBase {
 public:
  explicit NNIEFakeQuantize(const mqb::QuantizerArgs& args) : FakeQuantizeBase(args, "NNIEFakeQuantize") {
    args.params.reject_unknown("NNIEFakeQuantize");
    data_max_ = at::full({}, -INFINITY, at::kFloat);
    register_state("data_max", &data_max_);
  }

  mqb::DeployForm deploy_form() const override { return mqb::DeployForm::NNIELog; }

  at::Tensor forward(const at::Tensor& x) override {
    check_input(x);
    if (observer_enabled_) observer_->observe(x.detach());
    {
      // MQBench refreshes data_max on every call (a no-op while the observer is off).
      const at::Tensor m = at::maximum(observer_->min_val().neg(), observer_->max_val()).max();
      data_max_ = at::maximum(m.to(at::kFloat), data_max_);
    }
    if (!fake_quant_enabled_) return x;
    return mqb::straight_through(x, quantize(x.detach()));
  }

 private:
  at::Tensor quantize(const at::Tensor& x) const {
    const double dm = static_cast<double>(data_max_.item<float>());
    const double z = std::nearbyint(16.0 * std::log2(dm)) - 127.0;
    const double pos = std::pow(2.0, (z - 16.0) / 16.0);
    const double neg = -std::pow(2.0, (z + 1.0 - 16.0) / 16.0);
    const at::Tensor xd = x.to(at::kDouble).contiguous();
    at::Tensor out = at::empty(xd.sizes(), xd.options());
    const double* px = xd.data_ptr<double>();
    double* po = out.data_ptr<double>();
    at::parallel_for(0, xd.numel(), 16384, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) po[i] = nnie_code(px[i], z, pos, neg);
    });
    return out.to(x.scalar_type());
  }

  at::Tensor data_max_;
};

}  // namespace

MQB_QUANTIZER_PLUGIN(NNIEFakeQuantize, "HiSilicon NNIE logarithmic fake quantization (data_max only)", NNIEFakeQuantize)
