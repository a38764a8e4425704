// PercentileObserver: Histogram percentile of |x| (default 99.99 %) clips the range (see mqb/observer_histogram.h, HistogramObserver).
#include "mqb/observer_histogram.h"
#include "mqb/plugin.h"

namespace {

class PercentileObserver final : public mqb::HistogramObserver {
 public:
  explicit PercentileObserver(const mqb::ObserverArgs& args) : HistogramObserver(args, "PercentileObserver", Method::Percentile) {}
};

}  // namespace

MQB_OBSERVER_PLUGIN(PercentileObserver, "Histogram percentile of |x| (default 99.99 %) clips the range", PercentileObserver)
