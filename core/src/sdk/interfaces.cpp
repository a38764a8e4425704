// Key functions of the plugin interfaces (one vtable, in libmqb_core) and the small
// shared behaviour they carry.
#include "mqb/backend_preset.h"
#include "mqb/fake_quantize.h"
#include "mqb/observer.h"

namespace mqb {

Observer::~Observer() = default;
FakeQuantize::~FakeQuantize() = default;
BackendPreset::~BackendPreset() = default;
void BackendPreset::deploy(DeployContext&) const {}

void FakeQuantize::set_mode(QuantMode mode) {
  switch (mode) {
    case QuantMode::Calibrate: set_observer_enabled(true); set_fake_quant_enabled(false); break;
    case QuantMode::Quantize: set_observer_enabled(false); set_fake_quant_enabled(true); break;
    case QuantMode::Disabled: set_observer_enabled(false); set_fake_quant_enabled(false); break;
    case QuantMode::All: set_observer_enabled(true); set_fake_quant_enabled(true); break;
  }
}

const char* to_string(QuantType t) {
  switch (t) {
    case QuantType::Input: return "input";
    case QuantType::Param: return "param";
    case QuantType::Tensor: return "tensor";
    case QuantType::Unset: break;
  }
  return "unset";
}

}  // namespace mqb
