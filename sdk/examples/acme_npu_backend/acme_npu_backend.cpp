// AcmeNPU: a made-up NPU, as a third-party vendor would add it. Its integer engine
// requantizes with shifts, so weights are 8-bit symmetric per-channel with power-of-two
// scales; activations are 8-bit asymmetric per tensor. Pooling, ReLU and flatten run
// on the integer codes directly, so only the inputs of the compute ops (conv, linear,
// matmul, add, concat) are quantized, never their outputs.
#include "mqb/backend_spec.h"  // BackendSpec, make_qscheme, make_side
#include "mqb/plugin.h"

namespace {

mqb::BackendSpec acme_npu() {
  mqb::BackendSpec s;
  s.name = "AcmeNPU";
  // make_qscheme(bit, symmetric, per_channel, symmetric_range, pot_scale)
  s.defaults = mqb::QConfig{
      mqb::make_side("MinMaxObserver", "FixedFakeQuantize", mqb::make_qscheme(8, true, true, false, true)),
      mqb::make_side("EMAMinMaxObserver", "FixedFakeQuantize", mqb::make_qscheme(8, false, false))};
  s.rules.graph_quantizer = "AcmeNPU (own rules)";
  s.rules.weight_ops = {"conv", "linear"};
  s.rules.act_input_ops = {"conv", "linear", "matmul", "add", "concat"};
  s.rules.quantize_network_input = true;
  s.rules.fuse_conv_bn_relu = true;  // conv + bn + relu is one NPU instruction
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(AcmeNPU, "AcmeNPU (made up): shift-requantizing int8 engine, inputs of compute ops only",
                            acme_npu)
