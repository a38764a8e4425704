// Resolving a Config against its backend preset: defaults, then user overrides,
// as MQBench's get_qconfig_by_platform does (spec §1.5), but refusing what MQBench
// silently ignores.
#include "mqb/host/config.h"

namespace mqb {

namespace {

// Re-raises a plugin error with the config location that named the plugin.
template <typename F>
auto located(const SourceLocation& where, const std::string& key, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const PluginError& e) {
    // Values the user did not write come from the backend preset.
    const std::string origin = where.file.empty() ? "backend default for " + key : where.describe() + ": " + key;
    throw PluginError(origin + ": " + e.what());
  }
}

void apply_override(const char* side_name, char prefix, const QConfigOverride& user, QConfigSide& side,
                    Registry& registry, std::vector<std::string>& provenance, bool has_default) {
  const std::string p(1, prefix);
  const char* default_origin = has_default ? "(backend default)" : "(unset)";
  if (user.observer) side.observer = *user.observer;
  if (user.fake_quantize) side.fake_quantize = *user.fake_quantize;
  if (user.qscheme) {
    side.qscheme = user.qscheme->scheme;
    side.observer_args = user.qscheme->extra_observer_args;  // the user's scheme replaces the default one
  }
  side.observer_args.merge_from(user.observer_args);
  side.fakeq_params.merge_from(user.fakeq_params);
  provenance.push_back(std::string(side_name) + ".observer = " + side.observer + " " +
                       (user.observer ? "(" + p + "_observer)" : default_origin));
  provenance.push_back(std::string(side_name) + ".fake_quantize = " + side.fake_quantize + " " +
                       (user.fake_quantize ? "(" + p + "_fakequantize)" : default_origin));
  provenance.push_back(std::string(side_name) + ".qscheme = " + side.qscheme.describe() + " " +
                       (user.qscheme ? "(" + p + "_qscheme)" : default_origin));
  located(user.observer_where, p + "_observer", [&] { return registry.info(PluginKind::Observer, side.observer); });
  located(user.fake_quantize_where, p + "_fakequantize",
          [&] { return registry.info(PluginKind::Quantizer, side.fake_quantize); });
}

// OPENVINO's academic_mode (spec §2.4): no fusion, cat is an ordinary producer, and
// symmetric weights lose the extra negative level ([-63,63] at 7 bits instead of [-64,63]).
void apply_academic_mode(const Config& cfg, ResolvedConfig& out) {
  if (!cfg.extra_quantizer.academic_mode) return;
  if (!out.site_rules.supports_academic_mode)
    throw ConfigError(cfg.file + ": extra_quantizer.academic_mode: backend " + cfg.backend +
                      " has no academic mode (only OPENVINO has one; MQBench ignores the key elsewhere, we refuse it)");
  out.site_rules.fuse_conv_bn_relu = false;
  out.site_rules.pass_through_producers.clear();
  QScheme& w = out.qconfig.weight.qscheme;
  if (w.symmetric) w.symmetric_range = true;
  out.provenance.push_back("extra_quantizer.academic_mode: no fusion, cat quantized, weights " +
                           std::to_string(w.quant_min()) + ".." + std::to_string(w.quant_max()));
}

}  // namespace

ResolvedConfig resolve_config(const Config& cfg, Registry& registry) {
  ResolvedConfig out;
  out.backend = cfg.backend;
  out.extra_quantizer = cfg.extra_quantizer;
  out.model_options = cfg.model_options;
  auto backend = located(cfg.backend_where, "backend", [&] { return registry.create_backend(cfg.backend); });
  out.backend_qtype = backend->qtype();
  out.site_rules = backend->site_rules();
  const OverridePolicy policy = backend->override_policy();
  const std::optional<QConfig> defaults = backend->default_qconfig();

  if (policy.requires_full_user_qconfig || !defaults) {
    std::vector<std::string> missing;
    auto need = [&](bool given, const char* key) { if (!given) missing.push_back(key); };
    need(cfg.weight.qscheme.has_value(), "w_qscheme");
    need(cfg.activation.qscheme.has_value(), "a_qscheme");
    need(cfg.weight.observer.has_value(), "w_observer");
    need(cfg.activation.observer.has_value(), "a_observer");
    need(cfg.weight.fake_quantize.has_value(), "w_fakequantize");
    need(cfg.activation.fake_quantize.has_value(), "a_fakequantize");
    if (!missing.empty()) {
      std::string list;
      for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
      throw ConfigError(cfg.file + ": backend " + cfg.backend +
                        " has no defaults: [extra_qconfig] must set " + list +
                        " (see configs/academic.toml)");
    }
  }
  if (policy.only_observers_overridable) {
    for (const auto* side : {&cfg.weight, &cfg.activation}) {
      const char p = side == &cfg.weight ? 'w' : 'a';
      auto refuse = [&](bool given, const std::string& key) {
        if (given)
          throw ConfigError(cfg.file + ": extra_qconfig." + std::string(1, p) + "_" + key + ": backend " +
                            cfg.backend + " fixes its quantizer and scheme; only w_observer and a_observer "
                                          "may be set (MQBench ignores the rest silently; we refuse it)");
      };
      refuse(side->fake_quantize.has_value(), "fakequantize");
      refuse(side->qscheme.has_value(), "qscheme");
      refuse(!side->fakeq_params.empty(), "fakeq_params");
      refuse(!side->observer_args.empty(), "observer_extra_args");
    }
  }
  if (defaults) out.qconfig = *defaults;
  out.qconfig.weight.observer_args = Params("extra_qconfig.w_observer_extra_args");
  out.qconfig.activation.observer_args = Params("extra_qconfig.a_observer_extra_args");
  if (defaults) {
    out.qconfig.weight.observer_args.merge_from(defaults->weight.observer_args);
    out.qconfig.activation.observer_args.merge_from(defaults->activation.observer_args);
  }
  apply_override("weight", 'w', cfg.weight, out.qconfig.weight, registry, out.provenance, defaults.has_value());
  apply_override("activation", 'a', cfg.activation, out.qconfig.activation, registry, out.provenance,
                 defaults.has_value());
  apply_academic_mode(cfg, out);
  return out;
}

std::string describe_side(const QConfigSide& s) {
  return s.observer + "/" + s.fake_quantize + " " + s.qscheme.describe();
}

void validate_plugin_params(const ResolvedConfig& r, Registry& registry) {
  for (const QConfigSide* side : {&r.qconfig.weight, &r.qconfig.activation})
    registry.create_quantizer(side->fake_quantize, side->qscheme, side->fakeq_params, side->observer,
                              side->observer_args);
}

}  // namespace mqb
