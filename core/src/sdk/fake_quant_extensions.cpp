// Extension interfaces of the quantizers (see mqb/adaround.h): key functions that
// anchor their type information in libmqb_core, and AdaRound's shared math.
#include <ATen/ops/abs.h>
#include <ATen/ops/clamp.h>
#include <ATen/ops/pow.h>
#include <ATen/ops/sigmoid.h>

#include "mqb/adaround.h"

namespace mqb {

AdaRoundExtension::~AdaRoundExtension() = default;
QDropExtension::~QDropExtension() = default;

at::Tensor adaround_rectified_sigmoid(const at::Tensor& alpha, double gamma, double zeta) {
  // The same op sequence as MQBench's _rectified_sigmoid, so float32 results match it.
  return at::sigmoid(alpha).mul(zeta - gamma).add(gamma).clamp(0, 1);
}

at::Tensor adaround_round_loss(const at::Tensor& alpha, double beta, double gamma, double zeta) {
  const at::Tensor h = adaround_rectified_sigmoid(alpha, gamma, zeta);
  return at::pow(h.mul(2).sub(1).abs(), beta).neg().add(1).sum();
}

}  // namespace mqb
