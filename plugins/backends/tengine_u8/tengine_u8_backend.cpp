// Tengine_u8 backend preset: OPEN AI LAB Tengine uint8: asymmetric per-tensor, network outputs quantized.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"
#include "tengine_deploy.h"

namespace {

using namespace mqb;

BackendSpec spec() {
  BackendSpec s;
  s.name = "Tengine_u8";
  s.defaults = lsq_defaults(make_qscheme(8, false, false), make_qscheme(8, false, false));
  s.rules.graph_quantizer = "TengineQuantizer";
  s.rules.weight_ops = conv_like_ops();
  s.rules.act_input_ops = {"conv", "conv_transpose", "linear", "add", "mul", "max_pool", "avg_pool", "upsample", "batch_norm", "prelu", "concat", "hardswish", "sigmoid"};
  s.rules.act_output_ops = s.rules.act_input_ops;
  s.rules.output_pass_through_ops = {"flatten"};
  s.rules.quantize_network_output = true;
  s.deploy = tengine::write_deploy_files;
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(Tengine_u8, "OPEN AI LAB Tengine uint8: asymmetric per-tensor, network outputs quantized", spec)
