// The TOML configuration: the C++ form of MQBench's prepare_custom_config_dict
// (backend + extra_qconfig + extra_quantizer), parsed with every key checked, and
// its resolution against a backend preset's defaults (MQBench spec §1.5).
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "mqb/backend_preset.h"
#include "mqb/host/registry.h"

namespace mqb {

// A user's w_qscheme / a_qscheme table. Missing fields take QuantizeScheme's
// defaults (symmetry = true, per_channel = false, pot_scale = false, bit = 8);
// keys that are not scheme fields go to the observer, as in MQBench.
struct QSchemeSpec {
  QScheme scheme;
  Params extra_observer_args;
  SourceLocation where;
};

// One side (w_ or a_) of extra_qconfig as written by the user.
struct QConfigOverride {
  std::optional<std::string> observer;
  std::optional<std::string> fake_quantize;
  std::optional<QSchemeSpec> qscheme;
  Params observer_args;
  Params fakeq_params;
  SourceLocation observer_where, fake_quantize_where;
};

// extra_quantizer (spec §5.4), names as strings.
struct ExtraQuantizer {
  std::vector<std::string> additional_function_type;
  std::vector<std::string> additional_module_type;
  std::vector<std::string> additional_node_name;
  std::vector<std::string> exclude_module_name;
  std::vector<std::string> exclude_function_type;
  std::vector<std::string> exclude_node_name;
  bool academic_mode = false;
};

struct Config {
  std::string file;  // where it was read from, for messages
  std::string backend;
  SourceLocation backend_where;
  std::vector<std::filesystem::path> plugin_dirs;  // relative entries resolved against the file
  QConfigOverride weight, activation;
  ExtraQuantizer extra_quantizer;
};

// Parses TOML text; `file` names it in messages. Throws ConfigError with
// file:line:column, the key path and what is accepted.
MQB_API Config parse_config(const std::string& text, const std::string& file);
MQB_API Config load_config(const std::filesystem::path& file);

struct ResolvedConfig {
  std::string backend;
  std::string backend_qtype;
  QConfig qconfig;
  SiteRules site_rules;
  ExtraQuantizer extra_quantizer;
  // Where each final value came from, e.g. "weight.observer: MSEObserver (user)".
  std::vector<std::string> provenance;
};

// Backend defaults, then user overrides (spec §1.5). Plugins named by the config
// are loaded (not created) so unknown names fail here with "did you mean".
MQB_API ResolvedConfig resolve_config(const Config& config, Registry& registry);

// Creates the weight and activation quantizers once, so each plugin validates its
// own parameters (unknown keys, bad values) before any work starts.
MQB_API void validate_plugin_params(const ResolvedConfig& resolved, Registry& registry);

}  // namespace mqb
