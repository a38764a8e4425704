// HistogramMSEObserver: Clip minimising the squared quantization error estimated from the |x| histogram (see mqb/observer_histogram.h, HistogramObserver).
#include "mqb/observer_histogram.h"
#include "mqb/plugin.h"

namespace {

class HistogramMSEObserver final : public mqb::HistogramObserver {
 public:
  explicit HistogramMSEObserver(const mqb::ObserverArgs& args) : HistogramObserver(args, "HistogramMSEObserver", Method::Mse) {}
};

}  // namespace

MQB_OBSERVER_PLUGIN(HistogramMSEObserver, "Clip minimising the squared quantization error estimated from the |x| histogram", HistogramMSEObserver)
