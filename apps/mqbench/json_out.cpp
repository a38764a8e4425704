// JSON forms of core values (see json_out.h).
#include "json_out.h"

namespace mqb::cli {

nlohmann::json to_json(const QScheme& s) {
  return {{"bit", s.bit},
          {"symmetry", s.symmetric},
          {"per_channel", s.per_channel},
          {"pot_scale", s.pot_scale},
          {"symmetric_range", s.symmetric_range},
          {"ch_axis", s.ch_axis},
          {"quant_min", s.quant_min()},
          {"quant_max", s.quant_max()},
          {"name", s.name()}};
}

nlohmann::json to_json(const Params& p) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& k : p.keys()) std::visit([&](const auto& v) { j[k] = v; }, p.value(k));
  return j;
}

nlohmann::json to_json(const QConfigSide& side) {
  return {{"observer", side.observer},
          {"fake_quantize", side.fake_quantize},
          {"qscheme", to_json(side.qscheme)},
          {"observer_args", to_json(side.observer_args)},
          {"fakeq_params", to_json(side.fakeq_params)}};
}

nlohmann::json to_json(const ResolvedConfig& r) {
  const auto& eq = r.extra_quantizer;
  const auto& sr = r.site_rules;
  return {{"backend", r.backend},
          {"qtype", r.backend_qtype},
          {"weight", to_json(r.qconfig.weight)},
          {"activation", to_json(r.qconfig.activation)},
          {"extra_quantizer",
           {{"additional_function_type", eq.additional_function_type},
            {"additional_module_type", eq.additional_module_type},
            {"additional_node_name", eq.additional_node_name},
            {"exclude_module_name", eq.exclude_module_name},
            {"exclude_function_type", eq.exclude_function_type},
            {"exclude_node_name", eq.exclude_node_name},
            {"academic_mode", eq.academic_mode}}},
          {"site_rules",
           {{"graph_quantizer", sr.graph_quantizer},
            {"weight_ops", sr.weight_ops},
            {"act_input_ops", sr.act_input_ops},
            {"quantize_network_input", sr.quantize_network_input},
            {"quantize_network_output", sr.quantize_network_output},
            {"first_last_layer_8bit", sr.first_last_layer_8bit},
            {"fold_bn", sr.fold_bn},
            {"quantize_bias", sr.quantize_bias},
            {"unsigned_after_relu", sr.unsigned_after_relu},
            {"act_output_ops", sr.act_output_ops},
            {"output_pass_through_ops", sr.output_pass_through_ops},
            {"implicit_merges", sr.implicit_merges},
            {"skip_consumers_with_scalar_inputs", sr.skip_consumers_with_scalar_inputs},
            {"fuse_conv_bn_relu", sr.fuse_conv_bn_relu},
            {"skip_producers_feeding_output", sr.skip_producers_feeding_output},
            {"reuse_quantizer_ops", sr.reuse_quantizer_ops}}},
          {"provenance", r.provenance}};
}

}  // namespace mqb::cli
