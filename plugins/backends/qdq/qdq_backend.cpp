// QDQ backend preset: Generic ONNX QuantizeLinear/DequantizeLinear: TensorRT schemes.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

BackendSpec spec() {
  BackendSpec s;
  s.name = "QDQ";
  s.defaults = lsq_defaults(make_qscheme(8, true, true, true), make_qscheme(8, true, false, true));
  s.rules = model_quantizer_rules();
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(QDQ, "Generic ONNX QuantizeLinear/DequantizeLinear: TensorRT schemes", spec)
