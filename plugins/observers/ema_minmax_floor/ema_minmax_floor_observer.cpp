// EMAMinMaxFloorObserver: Vitis-AI power-of-two search with EMA-averaged extrema (see mqb/observer_search.h, PotSearchObserver).
#include "mqb/observer_search.h"
#include "mqb/plugin.h"

namespace {

class EMAMinMaxFloorObserver final : public mqb::PotSearchObserver {
 public:
  explicit EMAMinMaxFloorObserver(const mqb::ObserverArgs& args) : PotSearchObserver(args, "EMAMinMaxFloorObserver", Variant::EmaFloor) {}
};

}  // namespace

MQB_OBSERVER_PLUGIN(EMAMinMaxFloorObserver, "Vitis-AI power-of-two search with EMA-averaged extrema", EMAMinMaxFloorObserver)
