// NNIE backend preset: HiSilicon NNIE: logarithmic 8-bit codes; only the observers can be changed.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

BackendSpec spec() {
  BackendSpec s;
  s.name = "NNIE";
  s.qtype = "nnie";
  s.defaults = QConfig{make_side("MinMaxObserver", "NNIEFakeQuantize", make_qscheme(8, true, false)),
                       make_side("EMAMinMaxObserver", "NNIEFakeQuantize", make_qscheme(8, true, false))};
  s.policy.only_observers_overridable = true;
  s.rules.graph_quantizer = "ModelQuantizer";
  s.rules.weight_ops = {"conv", "conv_transpose", "linear"};
  s.rules.act_input_ops = {"conv", "conv_transpose", "linear", "add", "mul", "max_pool", "avg_pool", "upsample", "batch_norm", "prelu"};
  s.rules.implicit_merges = {"add<-mul"};
  return s;
}

class NNIEBackend final : public DeclaredBackend {
 public:
  explicit NNIEBackend(const Params& params) : DeclaredBackend(spec(), params) {}
};

}  // namespace

MQB_BACKEND_PLUGIN(NNIE, "HiSilicon NNIE: logarithmic 8-bit codes; only the observers can be changed", NNIEBackend)
