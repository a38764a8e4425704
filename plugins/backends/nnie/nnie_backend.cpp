// NNIE backend preset: HiSilicon NNIE: logarithmic 8-bit codes; only the observers can be changed.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

// NNIE: data_max of every layer's quantized inputs (gfpq_param_dict), plus the float
// model with weights clipped to [-data_max, data_max] (DEPLOY.md).
void write_files(DeployContext& ctx) {
  ctx.write_onnx(ctx.model_name() + "_deploy_model.onnx", OnnxForm::Float);
  nlohmann::json layers = nlohmann::json::object();
  for (const DeploySite& s : ctx.sites()) {
    if (s.is_weight) continue;
    const auto dot = s.name.rfind(".input");
    const std::string layer = dot == std::string::npos ? s.name : s.name.substr(0, dot);
    layers[layer].push_back(s.log_domain ? s.data_max : s.abs_max());
  }
  ctx.write_json(ctx.model_name() + "_gfpq_param_dict.json", {{"nnie", {{"gfpq_param_dict", layers}}}});
}

BackendSpec spec() {
  BackendSpec s;
  s.name = "NNIE";
  s.qtype = "nnie";
  s.defaults = QConfig{make_side("MinMaxObserver", "NNIEFakeQuantize", make_qscheme(8, true, false)),
                       make_side("EMAMinMaxObserver", "NNIEFakeQuantize", make_qscheme(8, true, false))};
  s.policy.only_observers_overridable = true;
  s.rules = model_quantizer_rules();
  s.deploy = write_files;
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(NNIE, "HiSilicon NNIE: logarithmic 8-bit codes; only the observers can be changed", spec)
