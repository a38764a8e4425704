// Declarative backend presets (see mqb/backend_spec.h).
#include "mqb/backend_spec.h"

namespace mqb {

QScheme make_qscheme(int bit, bool symmetric, bool per_channel, bool symmetric_range, bool pot_scale) {
  QScheme s;
  s.bit = bit;
  s.symmetric = symmetric;
  s.per_channel = per_channel;
  s.ch_axis = per_channel ? 0 : -1;
  s.symmetric_range = symmetric_range;
  s.pot_scale = pot_scale;
  s.validate();
  return s;
}

QConfigSide make_side(const std::string& observer, const std::string& fake_quantize, const QScheme& scheme) {
  QConfigSide side;
  side.observer = observer;
  side.fake_quantize = fake_quantize;
  side.qscheme = scheme;
  return side;
}

std::vector<std::string> conv_like_ops() { return {"conv", "conv_transpose", "linear"}; }

SiteRules model_quantizer_rules() {
  SiteRules r;
  r.graph_quantizer = "ModelQuantizer";
  r.weight_ops = conv_like_ops();
  r.act_input_ops = {"conv", "conv_transpose", "linear", "add",      "mul",
                     "max_pool", "avg_pool",    "upsample", "batch_norm", "prelu"};
  r.implicit_merges = {"add<-mul"};
  return r;
}

SiteRules total_int_quantizer_rules() {
  SiteRules r = model_quantizer_rules();
  r.graph_quantizer = "TotalINTQuantizer";
  // Inputs and outputs of every listed op; network outputs come from the output rule.
  r.act_output_ops = r.act_input_ops;
  r.output_pass_through_ops = {"relu", "relu6", "flatten"};
  return r;
}

QConfig lsq_defaults(const QScheme& weight, const QScheme& activation, const std::string& activation_observer) {
  return QConfig{make_side("MinMaxObserver", "LearnableFakeQuantize", weight),
                 make_side(activation_observer, "LearnableFakeQuantize", activation)};
}

DeclaredBackend::DeclaredBackend(BackendSpec spec, const Params& params) : spec_(std::move(spec)) {
  params.reject_unknown(spec_.name);
}

void DeclaredBackend::deploy(DeployContext& ctx) const {
  if (spec_.deploy) spec_.deploy(ctx);
}

}  // namespace mqb
