// QDQ backend preset: Generic ONNX QuantizeLinear/DequantizeLinear: TensorRT schemes.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

BackendSpec spec() {
  BackendSpec s;
  s.name = "QDQ";
  s.defaults = QConfig{make_side("MinMaxObserver", "LearnableFakeQuantize", make_qscheme(8, true, true, true)),
                       make_side("EMAMinMaxObserver", "LearnableFakeQuantize", make_qscheme(8, true, false, true))};
  s.rules.graph_quantizer = "ModelQuantizer";
  s.rules.weight_ops = {"conv", "conv_transpose", "linear"};
  s.rules.act_input_ops = {"conv", "conv_transpose", "linear", "add", "mul", "max_pool", "avg_pool", "upsample", "batch_norm", "prelu"};
  s.rules.implicit_merges = {"add<-mul"};
  return s;
}

class QDQBackend final : public DeclaredBackend {
 public:
  explicit QDQBackend(const Params& params) : DeclaredBackend(spec(), params) {}
};

}  // namespace

MQB_BACKEND_PLUGIN(QDQ, "Generic ONNX QuantizeLinear/DequantizeLinear: TensorRT schemes", QDQBackend)
