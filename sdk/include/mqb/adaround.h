// Extension interfaces the reconstruction driver (AdaRound / BRECQ / QDrop, MQBench
// spec §5.8) uses on quantizers that support it. A FakeQuantize object implements
// them in addition to FakeQuantize; callers find them with dynamic_cast (the type
// information lives in libmqb_core, so the cast works across plugin libraries):
//   if (auto* ada = dynamic_cast<mqb::AdaRoundExtension*>(fq.get())) ada->init(w);
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "mqb/error.h"

namespace mqb {

// AdaRound's rectified sigmoid h(alpha) = clamp((zeta - gamma) * sigmoid(alpha) + gamma, 0, 1).
inline constexpr double kAdaRoundGamma = -0.1;
inline constexpr double kAdaRoundZeta = 1.1;
MQB_API at::Tensor adaround_rectified_sigmoid(const at::Tensor& alpha, double gamma = kAdaRoundGamma,
                                              double zeta = kAdaRoundZeta);
// The rounding regulariser sum(1 - |2 h(alpha) - 1|^beta) (differentiable in alpha).
MQB_API at::Tensor adaround_round_loss(const at::Tensor& alpha, double beta, double gamma = kAdaRoundGamma,
                                       double zeta = kAdaRoundZeta);

class MQB_API AdaRoundExtension {
 public:
  virtual ~AdaRoundExtension();
  // MQBench's init(weight, round_mode): switches to learned rounding (observer off,
  // fake quant on) and creates alpha so that h(alpha) equals the fractional part of
  // weight/scale. Only "learned_hard_sigmoid" exists; others are a ConfigError.
  virtual void init(const at::Tensor& weight, const std::string& round_mode = "learned_hard_sigmoid") = 0;
  virtual bool adaround_enabled() const = 0;
  // Leaves learned rounding (forward becomes plain fake quantization again).
  virtual void set_adaround_enabled(bool on) = 0;
  // The learnable rounding variable (a leaf with requires_grad); undefined before init.
  virtual at::Tensor alpha() const = 0;
  // h(alpha), differentiable.
  virtual at::Tensor rectified_sigmoid() const = 0;
  // The regulariser for temperature beta, differentiable in alpha.
  virtual at::Tensor round_loss(double beta) const = 0;
  // The hard-rounded fake-quantized value of x (alpha >= 0 rounds up); no gradient.
  virtual at::Tensor get_hard_value(const at::Tensor& x) const = 0;
};

// QDrop's random drop of quantization during reconstruction: each element keeps its
// quantized value with probability prob, else the float input (prob = 1: no drop).
class MQB_API QDropExtension {
 public:
  virtual ~QDropExtension();
  virtual void set_prob(double prob) = 0;  // ConfigError outside [0, 1]
  virtual double prob() const = 0;
  // Reseeds the drop mask generator (deterministic runs).
  virtual void set_seed(uint64_t seed) = 0;
};

}  // namespace mqb
