// Vitis backend preset: Xilinx Vitis AI: 8-bit symmetric power-of-two scales, quantized biases.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

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
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(Vitis, "Xilinx Vitis AI: 8-bit symmetric power-of-two scales, quantized biases", spec)
