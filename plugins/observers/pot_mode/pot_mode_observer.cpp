// PoTModeObserver: Vitis-AI power-of-two scale: the mode of per-batch searches (see mqb/observer_search.h, PotSearchObserver).
#include "mqb/observer_search.h"
#include "mqb/plugin.h"

namespace {

class PoTModeObserver final : public mqb::PotSearchObserver {
 public:
  explicit PoTModeObserver(const mqb::ObserverArgs& args) : PotSearchObserver(args, "PoTModeObserver", Variant::Mode) {}
};

}  // namespace

MQB_OBSERVER_PLUGIN(PoTModeObserver, "Vitis-AI power-of-two scale: the mode of per-batch searches", PoTModeObserver)
