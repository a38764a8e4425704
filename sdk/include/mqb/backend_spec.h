// Declarative backend presets: a backend plugin fills a BackendSpec (defaults,
// override policy, site rules) and DeclaredBackend serves it through the
// BackendPreset interface, so every backend is data and no plugin repeats code.
#pragma once
#include <functional>

#include "mqb/backend_preset.h"
#include "mqb/deploy.h"

namespace mqb {

// A scheme in MQBench's QuantizeScheme terms (ch_axis 0 when per-channel).
MQB_API QScheme make_qscheme(int bit, bool symmetric, bool per_channel, bool symmetric_range = false,
                             bool pot_scale = false);
MQB_API QConfigSide make_side(const std::string& observer, const std::string& fake_quantize, const QScheme& scheme);

// The op families whose weights every MQBench backend quantizes (conv, deconv, linear).
MQB_API std::vector<std::string> conv_like_ops();
// MQBench's ModelQuantizer (Tensorrt, QDQ, NNIE): weights of conv-like ops and the inputs
// of the ops that consume activations, with MQBench's scale-shift merge (add <- mul).
MQB_API SiteRules model_quantizer_rules();
// MQBench's TotalINTQuantizer (SNPE, PPLW8A16, PPLCUDA, STPU): ModelQuantizer's sites plus
// the outputs of the same ops (moved past relu/relu6/flatten).
MQB_API SiteRules total_int_quantizer_rules();
// The default most backends share: LearnableFakeQuantize with MinMaxObserver on weights
// and `activation_observer` on activations.
MQB_API QConfig lsq_defaults(const QScheme& weight, const QScheme& activation,
                             const std::string& activation_observer = "EMAMinMaxObserver");

struct BackendSpec {
  std::string name;
  std::string qtype = "affine";
  std::optional<QConfig> defaults;  // nullopt: the user gives everything (Academic)
  OverridePolicy policy;
  SiteRules rules;
  // The backend's deploy writer (BackendPreset::deploy); empty: QDQ ONNX only.
  std::function<void(DeployContext&)> deploy;
};

class MQB_API DeclaredBackend : public BackendPreset {
 public:
  // Backend plugins take no parameters today; unknown ones are refused.
  DeclaredBackend(BackendSpec spec, const Params& params);
  std::string name() const override { return spec_.name; }
  std::optional<QConfig> default_qconfig() const override { return spec_.defaults; }
  OverridePolicy override_policy() const override { return spec_.policy; }
  SiteRules site_rules() const override { return spec_.rules; }
  std::string qtype() const override { return spec_.qtype; }
  void deploy(DeployContext& ctx) const override;

 private:
  BackendSpec spec_;
};

}  // namespace mqb

// A backend plugin from a function returning its BackendSpec: the class and the
// entry point, so a backend file holds only its data.
#define MQB_DECLARED_BACKEND_PLUGIN(ID, DESCRIPTION, SPEC_FN)                                   \
  namespace {                                                                                  \
  class ID##Backend final : public mqb::DeclaredBackend {                                      \
   public:                                                                                     \
    explicit ID##Backend(const mqb::Params& params) : DeclaredBackend(SPEC_FN(), params) {}    \
  };                                                                                           \
  }                                                                                            \
  MQB_BACKEND_PLUGIN(ID, DESCRIPTION, ID##Backend)
