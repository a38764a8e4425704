// EntropyObserver: TensorRT-style entropy calibration: KL-optimal clip of the |x| histogram (see mqb/observer_histogram.h, HistogramObserver).
#include "mqb/observer_histogram.h"
#include "mqb/plugin.h"

namespace {

class EntropyObserver final : public mqb::HistogramObserver {
 public:
  explicit EntropyObserver(const mqb::ObserverArgs& args) : HistogramObserver(args, "EntropyObserver", Method::Entropy) {}
};

}  // namespace

MQB_OBSERVER_PLUGIN(EntropyObserver, "TensorRT-style entropy calibration: KL-optimal clip of the |x| histogram", EntropyObserver)
