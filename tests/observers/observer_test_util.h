// Helpers shared by the observer tests: create an observer by name through the
// real plugin loader, with a scheme and hyper-parameters.
#pragma once
#include <memory>
#include <string>

#include "mqb/host/registry.h"
#include "mqb/observer.h"

namespace mqb::test {

inline std::shared_ptr<Observer> make_observer(const std::string& name, const QScheme& scheme,
                                               const Params& params = Params()) {
  ObserverArgs args{scheme, params};
  return Registry::instance().create_observer(name, args);
}

inline QScheme scheme_of(int bit, bool symmetric, int ch_axis = -1, bool pot = false, bool sym_range = false) {
  QScheme s;
  s.bit = bit;
  s.symmetric = symmetric;
  s.per_channel = ch_axis >= 0;
  s.ch_axis = ch_axis;
  s.pot_scale = pot;
  s.symmetric_range = sym_range;
  return s;
}

}  // namespace mqb::test
