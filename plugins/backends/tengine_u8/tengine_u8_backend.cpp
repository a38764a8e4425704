// Tengine_u8 backend preset: OPEN AI LAB Tengine uint8: asymmetric per-tensor, network outputs quantized.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include <cstdio>

#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

// Tengine: `name scale zero_point` lines for every per-tensor site, plus the float model
// with clipped weights (DEPLOY.md).
void write_files(DeployContext& ctx) {
  ctx.write_onnx(ctx.model_name() + "_for_tengine.onnx", OnnxForm::Float);
  std::string text;
  for (const DeploySite& s : ctx.sites()) {
    if (s.per_channel()) continue;  // per-channel weights are clipped in the model
    char line[64];
    std::snprintf(line, sizeof line, " %.9g %lld\n", s.scale.at(0), static_cast<long long>(s.zero_point.at(0)));
    text += s.tensor + line;
  }
  ctx.write_text(ctx.model_name() + "_for_tengine.scale", text);
}

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
  s.deploy = write_files;
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(Tengine_u8, "OPEN AI LAB Tengine uint8: asymmetric per-tensor, network outputs quantized", spec)
