// STPU backend preset: STPU: 8-bit symmetric [-127,127] per-tensor, fixed quantizers, all layer inputs and outputs.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"
#include "stpu_deploy.h"

namespace {

using namespace mqb;

BackendSpec spec() {
  BackendSpec s;
  s.name = "STPU";
  s.defaults = QConfig{make_side("MinMaxObserver", "FixedFakeQuantize", make_qscheme(8, true, false, true)),
                       make_side("EMAMinMaxObserver", "FixedFakeQuantize", make_qscheme(8, true, false, true))};
  s.rules = total_int_quantizer_rules();
  s.deploy = stpu::write_deploy_files;
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(STPU, "STPU: 8-bit symmetric [-127,127] per-tensor, fixed quantizers, all layer inputs and outputs", spec)
