// PPLW8A16 backend preset: OpenPPL W8A16: 8-bit asymmetric weights, 16-bit asymmetric activations.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

BackendSpec spec() {
  BackendSpec s;
  s.name = "PPLW8A16";
  s.defaults = lsq_defaults(make_qscheme(8, false, false), make_qscheme(16, false, false));
  s.rules = total_int_quantizer_rules();
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(PPLW8A16, "OpenPPL W8A16: 8-bit asymmetric weights, 16-bit asymmetric activations", spec)
