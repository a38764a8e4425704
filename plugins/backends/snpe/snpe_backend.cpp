// SNPE backend preset: Qualcomm SNPE: 8-bit asymmetric per-tensor weights and activations.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

BackendSpec spec() {
  BackendSpec s;
  s.name = "SNPE";
  s.defaults = QConfig{make_side("MinMaxObserver", "LearnableFakeQuantize", make_qscheme(8, false, false)),
                       make_side("EMAMinMaxObserver", "LearnableFakeQuantize", make_qscheme(8, false, false))};
  s.rules.graph_quantizer = "TotalINTQuantizer";
  s.rules.weight_ops = {"conv", "conv_transpose", "linear"};
  // inputs and outputs of every listed op; network outputs of listed ops come from the output rule
  s.rules.act_input_ops = {"conv", "conv_transpose", "linear", "add", "mul", "max_pool", "avg_pool", "upsample", "batch_norm", "prelu"};
  s.rules.act_output_ops = {"conv", "conv_transpose", "linear", "add", "mul", "max_pool", "avg_pool", "upsample", "batch_norm", "prelu"};
  s.rules.output_pass_through_ops = {"relu", "relu6", "flatten"};
  s.rules.implicit_merges = {"add<-mul"};
  return s;
}

class SNPEBackend final : public DeclaredBackend {
 public:
  explicit SNPEBackend(const Params& params) : DeclaredBackend(spec(), params) {}
};

}  // namespace

MQB_BACKEND_PLUGIN(SNPE, "Qualcomm SNPE: 8-bit asymmetric per-tensor weights and activations", SNPEBackend)
