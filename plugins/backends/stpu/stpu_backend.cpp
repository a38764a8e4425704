// STPU backend preset: STPU: 8-bit symmetric [-127,127] per-tensor, fixed quantizers, all layer inputs and outputs.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

// STPU: per-tensor min/max of every site (JSON numbers, not numpy values, spec §8.35),
// plus the float model with clipped weights.
void write_files(DeployContext& ctx) {
  ctx.write_onnx(ctx.model_name() + "_for_stpu.onnx", OnnxForm::Float);
  nlohmann::json table = nlohmann::json::object();
  for (const DeploySite& s : ctx.sites()) {
    if (s.per_channel()) throw Error("STPU deploy: site '" + s.name + "' is per-channel; STPU is per tensor");
    table[s.tensor] = {{"min", s.range_min()}, {"max", s.range_max()}};
  }
  ctx.write_json(ctx.model_name() + "_stpu_minmax.json", table);
}

BackendSpec spec() {
  BackendSpec s;
  s.name = "STPU";
  s.defaults = QConfig{make_side("MinMaxObserver", "FixedFakeQuantize", make_qscheme(8, true, false, true)),
                       make_side("EMAMinMaxObserver", "FixedFakeQuantize", make_qscheme(8, true, false, true))};
  s.rules = total_int_quantizer_rules();
  s.deploy = write_files;
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(STPU, "STPU: 8-bit symmetric [-127,127] per-tensor, fixed quantizers, all layer inputs and outputs", spec)
