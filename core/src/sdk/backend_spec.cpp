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

DeclaredBackend::DeclaredBackend(BackendSpec spec, const Params& params) : spec_(std::move(spec)) {
  params.reject_unknown(spec_.name);
}

}  // namespace mqb
