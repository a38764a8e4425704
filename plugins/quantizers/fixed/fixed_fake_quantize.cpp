// FixedFakeQuantize: plain fake quantization with observer-given qparams and a
// straight-through gradient inside the range (MQBench spec §4.2).
#include <ATen/ops/fake_quantize_per_channel_affine.h>
#include <ATen/ops/fake_quantize_per_tensor_affine.h>

#include "mqb/fake_quantize_base.h"
#include "mqb/plugin.h"

namespace {

class FixedFakeQuantize final : public mqb::FakeQuantizeBase {
 public:
  explicit FixedFakeQuantize(const mqb::QuantizerArgs& args) : FakeQuantizeBase(args, "FixedFakeQuantize") {
    args.params.reject_unknown("FixedFakeQuantize");
  }

  at::Tensor forward(const at::Tensor& x) override {
    if (observer_enabled_) observe_and_update(x);
    if (!fake_quant_enabled_) return x;
    const int64_t qmin = scheme_.quant_min(), qmax = scheme_.quant_max();
    if (scheme_.per_channel)
      return at::fake_quantize_per_channel_affine(x, scale_, zero_point_.to(at::kInt), scheme_.ch_axis, qmin, qmax);
    return at::fake_quantize_per_tensor_affine(x, scale_.item<float>(), zero_point_.item<int64_t>(), qmin, qmax);
  }
};

}  // namespace

MQB_QUANTIZER_PLUGIN(FixedFakeQuantize, "Fake quantization with observer qparams and a clipped straight-through gradient",
                     FixedFakeQuantize)
