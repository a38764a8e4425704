// The BackendPreset interface: one hardware target's default qconfig, how user
// overrides apply to it, the rules that choose quantization sites and how it deploys.
// Rules are data; the graph pass that applies them lives once in the core.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "mqb/params.h"
#include "mqb/qscheme.h"

namespace mqb {

// What quantizes one side (weights or activations) of every site.
struct QConfigSide {
  std::string observer;       // plugin name, e.g. "MinMaxObserver"
  std::string fake_quantize;  // plugin name, e.g. "LearnableFakeQuantize"
  QScheme qscheme;
  Params observer_args;       // *_observer_extra_args
  Params fakeq_params;        // *_fakeq_params
};

struct QConfig {
  QConfigSide weight;
  QConfigSide activation;
};

// How `extra_qconfig` may change the defaults (MQBench get_qconfig_by_platform).
struct OverridePolicy {
  // Academic: no defaults; w_qscheme, a_qscheme and all four class names required.
  bool requires_full_user_qconfig = false;
  // NNIE: only w_observer / a_observer are honoured; the rest is refused.
  bool only_observers_overridable = false;
};

// Which tensors get quantizers (MQBench §2.4), declared as data.
struct SiteRules {
  std::string graph_quantizer;              // MQBench's quantizer class, for docs
  std::vector<std::string> weight_ops;      // op families whose weights are quantized
  std::vector<std::string> act_input_ops;   // op families whose inputs are quantized
  bool quantize_network_input = true;
  bool quantize_network_output = false;
  bool first_last_layer_8bit = false;       // Academic
  bool fold_bn = true;                      // PTQ folds BN into conv
  bool quantize_bias = false;               // Vitis
  bool unsigned_after_relu = false;         // OpenVINO
};

class MQB_API BackendPreset {
 public:
  virtual ~BackendPreset();
  virtual std::string name() const = 0;
  // nullopt when the user must give everything (Academic).
  virtual std::optional<QConfig> default_qconfig() const = 0;
  virtual OverridePolicy override_policy() const { return {}; }
  virtual SiteRules site_rules() const = 0;
  // MQBench's qtype tag: "affine", "nnie" or "vitis".
  virtual std::string qtype() const { return "affine"; }
};

}  // namespace mqb
