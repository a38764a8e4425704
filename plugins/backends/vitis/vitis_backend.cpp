// Vitis backend preset: Xilinx Vitis AI: 8-bit symmetric power-of-two scales, quantized biases.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include <cmath>

#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

// Vitis AI: per site the power-of-two scale, bit width and fix point
// (fix_point = -log2(scale), what XIR's quantize info holds), plus the float model. The
// .xmodel itself needs Vitis AI's own compiler (DEPLOY.md).
void write_files(DeployContext& ctx) {
  ctx.write_onnx(ctx.model_name() + "_deploy_model.onnx", OnnxForm::Float);
  nlohmann::json table = nlohmann::json::object();
  for (const DeploySite& s : ctx.sites()) {
    if (s.per_channel()) throw Error("Vitis deploy: site '" + s.name + "' is per-channel; the DPU is per tensor");
    const double fix = -std::log2(s.scale.at(0));
    if (std::fabs(fix - std::round(fix)) > 1e-9)
      throw Error("Vitis deploy: site '" + s.name + "' has scale " + std::to_string(s.scale.at(0)) +
                  ", not a power of two (use pot_scale)");
    table[s.tensor] = {{"scale", s.scale.at(0)}, {"bit_width", s.bit}, {"fix_point", static_cast<int64_t>(std::round(fix))},
                       {"zero_point", s.zero_point.at(0)}};
  }
  ctx.write_json(ctx.model_name() + "_clip_ranges.json", {{"vitis", table}});
}

BackendSpec spec() {
  BackendSpec s;
  s.name = "Vitis";
  s.qtype = "vitis";
  s.defaults = QConfig{make_side("MinMaxFloorObserver", "TqtFakeQuantize", make_qscheme(8, true, false, false, true)),
                       make_side("PoTModeObserver", "TqtFakeQuantize", make_qscheme(8, true, false, false, true))};
  s.rules.graph_quantizer = "VitisQuantizer";
  s.rules.weight_ops = conv_like_ops();
  // "quantize outputs": MaxPool outputs are not quantized, nor the network input (spec §8)
  s.rules.act_output_ops = {"conv", "conv_transpose", "linear", "avg_pool", "batch_norm", "relu", "prelu", "upsample", "add", "mul", "concat"};
  s.rules.quantize_network_input = false;
  s.rules.quantize_bias = true;
  // MQBench's default bias quantizer (quantization/default_bias_fake_quant.py).
  s.rules.bias_quantizer = make_side("MinMaxFloorObserver", "TqtFakeQuantize", make_qscheme(8, true, false, false, true));
  s.deploy = write_files;
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(Vitis, "Xilinx Vitis AI: 8-bit symmetric power-of-two scales, quantized biases", spec)
