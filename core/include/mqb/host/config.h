// The TOML configuration: the C++ form of MQBench's prepare_custom_config_dict
// (backend + extra_qconfig + extra_quantizer), parsed with every key checked, and
// its resolution against a backend preset's defaults (MQBench spec §1.5).
#pragma once
#include <filesystem>
#include <map>
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

// [advanced_ptq]: MQBench's ptq_reconstruction config (spec §5.8). The table being
// present turns reconstruction on for `mqbench ptq` (enabled = false keeps it off).
struct AdvancedPtqConfig {
  bool enabled = true;
  std::string pattern = "block";  // "layer" (AdaRound) or "block" (BRECQ / QDrop)
  int64_t max_count = 2000;       // iterations per layer or block
  double lr = 1e-3;               // Adam learning rate of the rounding variables
  std::optional<double> scale_lr;  // set: activation scales are learned too (Adam, cosine)
  double warm_up = 0.2;           // fraction of iterations without the rounding loss
  double weight = 0.01;           // lambda of the rounding loss
  double b_start = 20, b_end = 2;  // b_range: temperature beta, annealed linearly
  double prob = 1.0;              // QDrop: keep-quantized probability (1 = no drop)
  bool keep_gpu = true;           // accepted for MQBench configs; caches live in host memory
  std::string round_mode = "learned_hard_sigmoid";
  int64_t seed = 0;               // batch sampling, drop masks
  SourceLocation where;
};

// MQBench's tracer options (spec §5.2), for TorchScript input: `preserve_attr` lists
// attributes and methods the prepared and deployed models must keep (TorchScript keeps
// all of them; prepare checks the listed ones exist), `concrete_args` specializes
// forward arguments to constants (folding the branches they select), `leaf_module`
// names module classes that stay one call, quantized nowhere inside.
struct ModelOptions {
  std::map<std::string, std::vector<std::string>> preserve_attr;  // module path ("" = root) -> names
  Params concrete_args{"concrete_args"};                          // argument name -> constant
  std::vector<std::string> leaf_module;                           // class names (last component)
};

struct Config {
  std::string file;  // where it was read from, for messages
  std::string backend;
  SourceLocation backend_where;
  std::vector<std::filesystem::path> plugin_dirs;  // relative entries resolved against the file
  QConfigOverride weight, activation;
  ExtraQuantizer extra_quantizer;
  std::optional<AdvancedPtqConfig> advanced_ptq;
  ModelOptions model_options;
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
  ModelOptions model_options;
  // Where each final value came from, e.g. "weight.observer: MSEObserver (user)".
  std::vector<std::string> provenance;
};

// Backend defaults, then user overrides (spec §1.5). Plugins named by the config
// are loaded (not created) so unknown names fail here with "did you mean".
MQB_API ResolvedConfig resolve_config(const Config& config, Registry& registry);

// One line for tables and reports: "MinMaxObserver/FixedFakeQuantize 8-bit symmetric ...".
MQB_API std::string describe_side(const QConfigSide& side);

// Creates the weight and activation quantizers once, so each plugin validates its
// own parameters (unknown keys, bad values) before any work starts.
MQB_API void validate_plugin_params(const ResolvedConfig& resolved, Registry& registry);

}  // namespace mqb
