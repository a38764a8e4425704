// AcmeNPU: a made-up NPU, as a third-party vendor would add it. Its integer engine
// requantizes with shifts, so weights are 8-bit symmetric per-channel with power-of-two
// scales; activations are 8-bit asymmetric per tensor. Pooling, ReLU and flatten run
// on the integer codes directly, so only the inputs of the compute ops (conv, linear,
// matmul, add, concat) are quantized, never their outputs.
#include <cmath>

#include "mqb/backend_spec.h"  // BackendSpec, make_qscheme, make_side
#include "mqb/deploy.h"        // DeployContext, DeploySite
#include "mqb/plugin.h"

namespace {

// The NPU compiler's input: one JSON "program" with, per quantized tensor, the integer
// grid the engine uses. Weight scales are powers of two, so the engine stores them as
// right shifts (scale = 2^-shift); activations keep scale and zero point.
void write_acme_program(mqb::DeployContext& ctx) {
  nlohmann::json tensors = nlohmann::json::object();
  for (const mqb::DeploySite& s : ctx.sites()) {
    nlohmann::json t = {{"site", s.name}, {"bits", s.bit}, {"min", s.quant_min}, {"max", s.quant_max}};
    if (s.is_weight) {
      std::vector<int> shifts;
      for (double scale : s.scale) {
        const double shift = -std::log2(scale);
        if (shift != std::round(shift))
          throw mqb::Error("AcmeNPU deploy: weight site '" + s.name + "' has scale " + std::to_string(scale) +
                           ", not a power of two; keep pot_scale = true in w_qscheme");
        shifts.push_back(static_cast<int>(shift));
      }
      t["shift"] = shifts;  // one per output channel
    } else {
      t["scale"] = s.scale.at(0);
      t["zero_point"] = s.zero_point.at(0);
    }
    tensors[s.tensor] = t;
  }
  ctx.write_json(ctx.model_name() + "_acme_npu.json",
                 {{"format", "acme-npu-program-v1"}, {"model", ctx.model_name()}, {"tensors", tensors}});
}

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
  s.deploy = write_acme_program;     // its own file in every deploy folder
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(AcmeNPU, "AcmeNPU (made up): shift-requantizing int8 engine, inputs of compute ops only",
                            acme_npu)
