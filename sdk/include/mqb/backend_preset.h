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

class DeployContext;  // mqb/deploy.h

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
  // Vitis: biases of weight ops get their own site, quantized by `bias_quantizer`
  // (MQBench declares such a quantizer but never uses it in its prepared model, spec §8).
  bool quantize_bias = false;
  QConfigSide bias_quantizer;
  bool unsigned_after_relu = false;         // OpenVINO
  // Fields below drive the core's prepare pass (core/src/prepare/README.md lists the
  // op family names). Inputs of act_input_ops and outputs of act_output_ops are
  // quantized; each tensor gets at most one site.
  std::vector<std::string> act_output_ops;          // TotalINT, Tengine, ONNX_QNN, Vitis
  // An output rule moves to the single user of these families (TotalINT: relu, flatten).
  std::vector<std::string> output_pass_through_ops;
  // "consumer<-producer": that input edge is left float (MQBench's implicit merges,
  // e.g. "add<-mul" for scale-shift, "add<-embedding" for Tensorrt_NLP).
  std::vector<std::string> implicit_merges;
  bool skip_consumers_with_scalar_inputs = false;   // Academic, Tensorrt_NLP: `x + 1` is no consumer
  bool fuse_conv_bn_relu = true;                    // conv[+bn][+relu], linear[+relu] act as one op
  bool skip_producers_feeding_output = false;       // OpenVINO: the last layer's output stays float
  // OpenVINO: outputs of these families that feed a weight op are not quantized (the
  // quantizer before them is reused).
  std::vector<std::string> reuse_quantizer_ops;
  // OpenVINO: producers of these families are skipped (their outputs never get a site),
  // MQBench's "pass-through" nodes; `academic_mode` turns this off.
  std::vector<std::string> pass_through_producers;
  // OpenVINO: the backend honours extra_quantizer.academic_mode (no fusion, no
  // pass-through producers, symmetric weights on the narrow range [-(2^(b-1)-1), 2^(b-1)-1]).
  bool supports_academic_mode = false;
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
  // Writes the files this backend's toolchain consumes into ctx.out_dir(). The core has
  // already written the QDQ ONNX model and the deployed TorchScript; the default adds
  // nothing (QDQ ONNX only). Errors are mqb::Error subclasses naming the site or op.
  virtual void deploy(DeployContext& ctx) const;
};

}  // namespace mqb
