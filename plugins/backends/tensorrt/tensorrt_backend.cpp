// Tensorrt backend preset: NVIDIA TensorRT: 8-bit symmetric [-127,127], per-channel weights.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"
#include "tensorrt_deploy.h"

namespace {

using namespace mqb;

BackendSpec spec() {
  BackendSpec s;
  s.name = "Tensorrt";
  s.defaults = lsq_defaults(make_qscheme(8, true, true, true), make_qscheme(8, true, false, true));
  s.rules = model_quantizer_rules();
  s.deploy = tensorrt::write_deploy_files;
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(Tensorrt, "NVIDIA TensorRT: 8-bit symmetric [-127,127], per-channel weights", spec)
