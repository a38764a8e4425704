// ONNX_QNN backend preset: ONNX QLinear operators: 8-bit asymmetric, no weight quantization on Linear.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

BackendSpec spec() {
  BackendSpec s;
  s.name = "ONNX_QNN";
  s.defaults = QConfig{make_side("MinMaxObserver", "LearnableFakeQuantize", make_qscheme(8, false, false)),
                       make_side("MinMaxObserver", "LearnableFakeQuantize", make_qscheme(8, false, false))};
  s.rules.graph_quantizer = "ONNXQNNQuantizer";
  s.rules.weight_ops = {"conv", "conv_transpose"};
  s.rules.act_input_ops = {"conv", "conv_transpose", "linear", "add", "concat", "pool"};
  return s;
}

class ONNXQNNBackend final : public DeclaredBackend {
 public:
  explicit ONNXQNNBackend(const Params& params) : DeclaredBackend(spec(), params) {}
};

}  // namespace

MQB_BACKEND_PLUGIN(ONNX_QNN, "ONNX QLinear operators: 8-bit asymmetric, no weight quantization on Linear", ONNXQNNBackend)
