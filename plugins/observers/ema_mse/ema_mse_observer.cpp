// EMAMSEObserver: Per-batch Lp-optimal range search, EMA across batches (see mqb/observer_search.h, MseSearchObserver).
#include "mqb/observer_search.h"
#include "mqb/plugin.h"

namespace {

class EMAMSEObserver final : public mqb::MseSearchObserver {
 public:
  explicit EMAMSEObserver(const mqb::ObserverArgs& args) : MseSearchObserver(args, "EMAMSEObserver", true) {}
};

}  // namespace

MQB_OBSERVER_PLUGIN(EMAMSEObserver, "Per-batch Lp-optimal range search, EMA across batches", EMAMSEObserver)
