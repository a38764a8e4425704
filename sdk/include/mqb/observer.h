// The Observer interface: watches calibration tensors, keeps statistics and turns
// them into (scale, zero_point). Plugins usually derive from ObserverBase
// (mqb/observer_base.h), which holds the min/max state MQBench's observers share.
#pragma once
#include "mqb/params.h"
#include "mqb/qscheme.h"
#include "mqb/tensor_types.h"

namespace mqb {

class MQB_API Observer {
 public:
  virtual ~Observer();

  // Updates the statistics with one calibration batch. Empty tensors are ignored.
  virtual void observe(const at::Tensor& x) = 0;
  // The qparams the current statistics imply. Pure for every observer except
  // PoTModeObserver, which votes once per call as MQBench's does.
  virtual QParams calculate_qparams() = 0;

  // The observed range (0-d before any data; vectors once per-channel data was seen).
  virtual at::Tensor min_val() const = 0;
  virtual at::Tensor max_val() const = 0;
  // Overwrites the range (PACT pins it to its learned clipping values).
  virtual void set_range(const at::Tensor& min_val, const at::Tensor& max_val) = 0;

  virtual StateDict state() const = 0;
  // Restores what state() returned; unknown or missing keys are a DataError.
  virtual void load_state(const StateDict& state) = 0;
  virtual void reset() = 0;

  virtual void set_quant_type(QuantType) {}
  virtual QuantType quant_type() const { return QuantType::Unset; }
  virtual const QScheme& qscheme() const = 0;
};

// What an observer factory receives.
struct ObserverArgs {
  QScheme qscheme;
  Params params;  // hyper-parameters (w_observer_extra_args / a_observer_extra_args)
};

}  // namespace mqb
