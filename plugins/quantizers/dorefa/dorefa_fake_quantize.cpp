// DoReFaFakeQuantize: weights pass through tanh and are normalised to [-1, 1] by
// their largest magnitude (+1e-5), then fake-quantized as FixedFakeQuantize
// (MQBench spec §4.6). The transform is applied on every call, as MQBench does, and
// differentiated by autograd; the fake-quant step uses the SDK's fused kernel.
#include "mqb/fake_quant_kernels.h"
#include "mqb/fake_quantize_base.h"
#include "mqb/plugin.h"

namespace {

class DoReFaFakeQuantize final : public mqb::FakeQuantizeBase {
 public:
  explicit DoReFaFakeQuantize(const mqb::QuantizerArgs& args) : FakeQuantizeBase(args, "DoReFaFakeQuantize") {
    args.params.reject_unknown("DoReFaFakeQuantize");
  }

  at::Tensor forward(const at::Tensor& input) override {
    check_input(input);
    if (input.numel() == 0) return input;  // no largest magnitude to normalise by
    at::Tensor x = input.tanh();
    x = x.div(x.abs().max().add(1e-5));
    if (observer_enabled_) observe_and_update(x);
    if (!fake_quant_enabled_) return x;
    return mqb::fake_quantize_affine(x, scale_, zero_point_, scheme_.quant_min(), scheme_.quant_max(), axis());
  }
};

}  // namespace

MQB_QUANTIZER_PLUGIN(DoReFaFakeQuantize, "DoReFa weights: tanh, normalise by max |.|, then fake quantize",
                     DoReFaFakeQuantize)
