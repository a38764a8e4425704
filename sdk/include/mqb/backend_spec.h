// Declarative backend presets: a backend plugin fills a BackendSpec (defaults,
// override policy, site rules) and DeclaredBackend serves it through the
// BackendPreset interface, so every backend is data and no plugin repeats code.
#pragma once
#include "mqb/backend_preset.h"

namespace mqb {

// A scheme in MQBench's QuantizeScheme terms (ch_axis 0 when per-channel).
MQB_API QScheme make_qscheme(int bit, bool symmetric, bool per_channel, bool symmetric_range = false,
                             bool pot_scale = false);
MQB_API QConfigSide make_side(const std::string& observer, const std::string& fake_quantize, const QScheme& scheme);

struct BackendSpec {
  std::string name;
  std::string qtype = "affine";
  std::optional<QConfig> defaults;  // nullopt: the user gives everything (Academic)
  OverridePolicy policy;
  SiteRules rules;
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

 private:
  BackendSpec spec_;
};

}  // namespace mqb
