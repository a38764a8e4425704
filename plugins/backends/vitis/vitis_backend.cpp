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
  s.rules.weight_ops = {"conv", "conv_transpose", "linear"};
  s.rules.act_input_ops = {"conv", "conv_transpose", "linear", "add", "concat", "pool"};
  s.rules.quantize_network_input = false;  // MQBench never quantizes Vitis inputs (spec §8.14)
  s.rules.quantize_bias = true;
  return s;
}

class VitisBackend final : public DeclaredBackend {
 public:
  explicit VitisBackend(const Params& params) : DeclaredBackend(spec(), params) {}
};

}  // namespace

MQB_BACKEND_PLUGIN(Vitis, "Xilinx Vitis AI: 8-bit symmetric power-of-two scales, quantized biases", VitisBackend)
