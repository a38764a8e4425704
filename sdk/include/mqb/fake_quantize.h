// The FakeQuantize interface: quantize-dequantize a tensor in the forward pass with
// autograd-aware gradients, owning the Observer that calibrates it.
#pragma once
#include <memory>

#include "mqb/observer.h"

namespace mqb {

// The switches a prepared model sets on every site at once.
enum class QuantMode {
  Calibrate,  // observer on, fake quant off
  Quantize,   // observer off, fake quant on
  Disabled,   // both off
  All,        // both on (MQBench's state right after construction)
};

// How a deployed graph expresses this quantizer.
enum class DeployForm {
  Affine,     // QuantizeLinear/DequantizeLinear with scale and zero point
  NNIELog,    // HiSilicon's logarithmic codes: data_max only
  Identity,   // nothing to export (disabled)
  NonUniform, // levels that are no affine grid (e.g. APoT): no aten fake-quant form
};

class MQB_API FakeQuantize {
 public:
  virtual ~FakeQuantize();

  // Observes (if enabled) and fake-quantizes (if enabled). Differentiable: input
  // gradients and gradients of learnable parameters flow through autograd.
  virtual at::Tensor forward(const at::Tensor& x) = 0;

  // The current qparams, as a deployed graph would use them.
  virtual QParams qparams() const = 0;
  // Learnable tensors (leaves with requires_grad) for an optimizer.
  virtual NamedTensors parameters() { return {}; }

  virtual StateDict state() const = 0;
  virtual void load_state(const StateDict& state) = 0;

  virtual void set_observer_enabled(bool on) = 0;
  virtual void set_fake_quant_enabled(bool on) = 0;
  virtual bool observer_enabled() const = 0;
  virtual bool fake_quant_enabled() const = 0;
  void set_mode(QuantMode mode);

  virtual void set_training(bool training) = 0;
  virtual bool training() const = 0;
  virtual void set_quant_type(QuantType t) { observer().set_quant_type(t); }

  virtual Observer& observer() = 0;
  virtual const Observer& observer() const = 0;
  virtual const QScheme& qscheme() const = 0;
  virtual DeployForm deploy_form() const { return DeployForm::Affine; }
};

// What a quantizer factory receives: its scheme, its parameters and the observer
// the host already created by name through the registry.
struct QuantizerArgs {
  QScheme qscheme;
  Params params;  // w_fakeq_params / a_fakeq_params
  std::shared_ptr<Observer> observer;
};

}  // namespace mqb
