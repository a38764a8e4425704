// MinMaxFloorObserver: Vitis-AI power-of-two scale from the last batch (floor search) (see mqb/observer_search.h, PotSearchObserver).
#include "mqb/observer_search.h"
#include "mqb/plugin.h"

namespace {

class MinMaxFloorObserver final : public mqb::PotSearchObserver {
 public:
  explicit MinMaxFloorObserver(const mqb::ObserverArgs& args) : PotSearchObserver(args, "MinMaxFloorObserver", Variant::Floor) {}
};

}  // namespace

MQB_OBSERVER_PLUGIN(MinMaxFloorObserver, "Vitis-AI power-of-two scale from the last batch (floor search)", MinMaxFloorObserver)
