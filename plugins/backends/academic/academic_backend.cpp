// Academic: the research backend. No defaults: the user gives both qschemes and all
// four plugin names; first and last layers are forced to 8 bit (MQBench spec §1.4).
#include "mqb/plugin.h"

namespace {

class AcademicBackend final : public mqb::BackendPreset {
 public:
  explicit AcademicBackend(const mqb::Params& params) { params.reject_unknown("Academic"); }
  std::string name() const override { return "Academic"; }
  std::optional<mqb::QConfig> default_qconfig() const override { return std::nullopt; }
  mqb::OverridePolicy override_policy() const override {
    mqb::OverridePolicy p;
    p.requires_full_user_qconfig = true;
    return p;
  }
  mqb::SiteRules site_rules() const override {
    mqb::SiteRules r;
    r.graph_quantizer = "AcademicQuantizer";
    r.weight_ops = {"conv", "conv_transpose", "linear"};
    r.act_input_ops = {"conv", "conv_transpose", "linear"};
    r.quantize_network_input = true;
    r.first_last_layer_8bit = true;
    r.fold_bn = false;
    return r;
  }
};

}  // namespace

MQB_BACKEND_PLUGIN(Academic, "Research setting: user-chosen schemes, 8-bit first and last layers", AcademicBackend)
