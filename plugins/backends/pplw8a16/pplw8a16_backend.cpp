// PPLW8A16 backend preset: OpenPPL W8A16: 8-bit asymmetric weights, 16-bit asymmetric activations.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

BackendSpec spec() {
  BackendSpec s;
  s.name = "PPLW8A16";
  s.defaults = QConfig{make_side("MinMaxObserver", "LearnableFakeQuantize", make_qscheme(8, false, false)),
                       make_side("EMAMinMaxObserver", "LearnableFakeQuantize", make_qscheme(16, false, false))};
  s.rules.graph_quantizer = "TotalINTQuantizer";
  s.rules.weight_ops = {"conv", "conv_transpose", "linear"};
  // inputs and outputs of every listed op; network outputs of listed ops come from the output rule
  s.rules.act_input_ops = {"conv", "conv_transpose", "linear", "add", "mul", "max_pool", "avg_pool", "upsample", "batch_norm", "prelu"};
  s.rules.act_output_ops = {"conv", "conv_transpose", "linear", "add", "mul", "max_pool", "avg_pool", "upsample", "batch_norm", "prelu"};
  s.rules.output_pass_through_ops = {"relu", "relu6", "flatten"};
  s.rules.implicit_merges = {"add<-mul"};
  return s;
}

class PPLW8A16Backend final : public DeclaredBackend {
 public:
  explicit PPLW8A16Backend(const Params& params) : DeclaredBackend(spec(), params) {}
};

}  // namespace

MQB_BACKEND_PLUGIN(PPLW8A16, "OpenPPL W8A16: 8-bit asymmetric weights, 16-bit asymmetric activations", PPLW8A16Backend)
