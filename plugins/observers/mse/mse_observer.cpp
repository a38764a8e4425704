// MSEObserver: Per-batch Lp-optimal range search (95/80 shrink candidates), running extrema (see mqb/observer_search.h, MseSearchObserver).
#include "mqb/observer_search.h"
#include "mqb/plugin.h"

namespace {

class MSEObserver final : public mqb::MseSearchObserver {
 public:
  explicit MSEObserver(const mqb::ObserverArgs& args) : MseSearchObserver(args, "MSEObserver", false) {}
};

}  // namespace

MQB_OBSERVER_PLUGIN(MSEObserver, "Per-batch Lp-optimal range search (95/80 shrink candidates), running extrema", MSEObserver)
