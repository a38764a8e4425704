// PPLCUDA backend preset: OpenPPL CUDA: 8-bit asymmetric per-channel weights, MinMax activations.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

// PPL CUDA: per-tensor ranges max(|min|, |max|) as JSON (MQBench overwrites its JSON
// with `name: value` text lines, spec §8.34; this stays JSON), plus the float model in
// which per-channel weights are clipped.
void write_files(DeployContext& ctx) {
  ctx.write_onnx(ctx.model_name() + "_deploy_model.onnx", OnnxForm::Float);
  nlohmann::json ranges = nlohmann::json::object();
  for (const DeploySite& s : ctx.sites())
    if (!s.per_channel()) ranges[s.tensor] = s.abs_max();
  ctx.write_json(ctx.model_name() + "_clip_ranges.json", {{"ppl-cuda", ranges}});
}

BackendSpec spec() {
  BackendSpec s;
  s.name = "PPLCUDA";
  s.defaults = lsq_defaults(make_qscheme(8, false, true), make_qscheme(8, false, false), "MinMaxObserver");
  s.rules = total_int_quantizer_rules();
  s.deploy = write_files;
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(PPLCUDA, "OpenPPL CUDA: 8-bit asymmetric per-channel weights, MinMax activations", spec)
