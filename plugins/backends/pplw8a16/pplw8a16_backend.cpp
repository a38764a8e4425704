// PPLW8A16 backend preset: OpenPPL W8A16: 8-bit asymmetric weights, 16-bit asymmetric activations.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

// One value, or one per channel.
template <typename F>
nlohmann::json per_channel(const DeploySite& s, F value) {
  if (!s.per_channel()) return value(0);
  nlohmann::json list = nlohmann::json::array();
  for (size_t c = 0; c < s.scale.size(); ++c) list.push_back(value(c));
  return list;
}

nlohmann::json ppl_table(const std::vector<DeploySite>& sites) {
  nlohmann::json table = nlohmann::json::object();
  for (const DeploySite& s : sites)
    table[s.tensor] = {{"step", per_channel(s, [&](size_t c) { return s.scale.at(c); })},
                       {"zero_point", per_channel(s, [&](size_t c) { return s.zero_point.at(c); })},
                       {"min", per_channel(s, [&](size_t c) { return s.range_min(c); })},
                       {"max", per_channel(s, [&](size_t c) { return s.range_max(c); })},
                       {"bit", s.bit},
                       {"type", "biased"}};
  return table;
}

// PPL (OpenPPL) quantization table (DEPLOY.md): every site with step, zero point, real
// range and bit width (lists for per-channel sites), plus the float model.
void write_files(DeployContext& ctx) {
  ctx.write_onnx(ctx.model_name() + "_deploy_model.onnx", OnnxForm::Float);
  ctx.write_json(ctx.model_name() + "_clip_ranges.json", {{"ppl", ppl_table(ctx.sites())}});
}

BackendSpec spec() {
  BackendSpec s;
  s.name = "PPLW8A16";
  s.defaults = lsq_defaults(make_qscheme(8, false, false), make_qscheme(16, false, false));
  s.rules = total_int_quantizer_rules();
  s.deploy = write_files;
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(PPLW8A16, "OpenPPL W8A16: 8-bit asymmetric weights, 16-bit asymmetric activations", spec)
