// FixedFakeQuantize: plain fake quantization with observer-given qparams and a
// straight-through gradient inside the range (MQBench spec §4.2), on the SDK's
// fused kernels (bit-identical to torch.fake_quantize_per_{tensor,channel}_affine).
#include "mqb/fake_quant_kernels.h"
#include "mqb/fake_quantize_base.h"
#include "mqb/plugin.h"

namespace {

class FixedFakeQuantize final : public mqb::FakeQuantizeBase {
 public:
  explicit FixedFakeQuantize(const mqb::QuantizerArgs& args) : FakeQuantizeBase(args, "FixedFakeQuantize") {
    args.params.reject_unknown("FixedFakeQuantize");
  }

  at::Tensor forward(const at::Tensor& x) override {
    check_input(x);
    if (observer_enabled_) observe_and_update(x);
    if (!fake_quant_enabled_) return x;
    return mqb::fake_quantize_affine(x, scale_, zero_point_, scheme_.quant_min(), scheme_.quant_max(), axis());
  }
};

}  // namespace

MQB_QUANTIZER_PLUGIN(FixedFakeQuantize, "Fake quantization with observer qparams and a clipped straight-through gradient",
                     FixedFakeQuantize)
