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
  s.rules = model_quantizer_rules();
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(NNIE, "HiSilicon NNIE: logarithmic 8-bit codes; only the observers can be changed", spec)
