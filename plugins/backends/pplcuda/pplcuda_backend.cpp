// PPLCUDA backend preset: OpenPPL CUDA: 8-bit asymmetric per-channel weights, MinMax activations.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

BackendSpec spec() {
  BackendSpec s;
  s.name = "PPLCUDA";
  s.defaults = lsq_defaults(make_qscheme(8, false, true), make_qscheme(8, false, false), "MinMaxObserver");
  s.rules = total_int_quantizer_rules();
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(PPLCUDA, "OpenPPL CUDA: 8-bit asymmetric per-channel weights, MinMax activations", spec)
