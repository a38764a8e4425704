// SNPE backend preset: Qualcomm SNPE: 8-bit asymmetric per-tensor weights and activations.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

// SNPE / QNN quantization overrides (AIMET encodings format, DEPLOY.md): every site,
// weights included (MQBench leaves param_encodings empty, so SNPE re-derives weight
// encodings and loses the simulated ones), plus the float model with clipped weights.
nlohmann::json encoding(const DeploySite& s, size_t c) {
  return {{"bitwidth", s.bit},
          {"min", s.range_min(c)},
          {"max", s.range_max(c)},
          {"scale", s.scale.at(c)},
          {"offset", s.quant_min - s.zero_point.at(c)},
          {"is_symmetric", s.symmetric ? "True" : "False"},
          {"dtype", "int"}};
}

void write_files(DeployContext& ctx) {
  ctx.write_onnx(ctx.model_name() + "_deploy_model.onnx", OnnxForm::Float);
  nlohmann::json act = nlohmann::json::object(), param = nlohmann::json::object();
  for (const DeploySite& s : ctx.sites()) {
    nlohmann::json list = nlohmann::json::array();
    for (size_t c = 0; c < s.scale.size(); ++c) list.push_back(encoding(s, c));
    (s.is_weight ? param : act)[s.tensor] = list;
  }
  ctx.write_json(ctx.model_name() + "_encodings.json", {{"activation_encodings", act}, {"param_encodings", param}});
}

BackendSpec spec() {
  BackendSpec s;
  s.name = "SNPE";
  s.defaults = lsq_defaults(make_qscheme(8, false, false), make_qscheme(8, false, false));
  s.rules = total_int_quantizer_rules();
  s.deploy = write_files;
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(SNPE, "Qualcomm SNPE: 8-bit asymmetric per-tensor weights and activations", spec)
