// Shared quantization math (see mqb/qparams_math.h). Written with the same ATen ops
// torch's Python observers compose, on tiny tensors, so the float32 results match
// MQBench bit for bit.
#include "mqb/qparams_math.h"

#include <ATen/ops/aminmax.h>
#include <ATen/ops/full.h>
#include <ATen/ops/maximum.h>
#include <ATen/ops/minimum.h>
#include <ATen/ops/pow.h>
#include <ATen/ops/zeros.h>
#include <ATen/ops/zeros_like.h>

#include <algorithm>
#include <cmath>

namespace mqb {

namespace {
bool nothing_observed(const at::Tensor& mn, const at::Tensor& mx) {
  return mn.dim() == 0 && mx.dim() == 0 && std::isinf(mn.item<float>()) && mn.item<float>() > 0 &&
         std::isinf(mx.item<float>()) && mx.item<float>() < 0;
}
}  // namespace

QParams qparams_from_minmax(const at::Tensor& min_val, const at::Tensor& max_val,
                            const QScheme& scheme, const std::string& who, float eps) {
  if (min_val.numel() == 0 || max_val.numel() == 0 || nothing_observed(min_val, max_val))
    return {at::full({1}, 1.0f, at::kFloat), at::zeros({1}, at::kInt)};
  const at::Tensor mnf = min_val.to(at::kFloat), mxf = max_val.to(at::kFloat);
  // NaN compares false, so NaN bounds are refused here too.
  if (!mnf.le(mxf).all().item<bool>())
    throw DataError(who + ": cannot compute qparams: observed min > max or a NaN bound (min=" +
                    std::to_string(mnf.min().item<float>()) + ", max=" +
                    std::to_string(mxf.max().item<float>()) +
                    "); the calibration data holds NaN or the statistics are inconsistent");
  const int64_t qmin = scheme.quant_min(), qmax = scheme.quant_max();
  const at::Tensor zero = at::zeros_like(mnf);
  at::Tensor mn = at::minimum(mnf, zero);
  at::Tensor mx = at::maximum(mxf, zero);
  const at::Tensor eps_t = at::full({}, eps, at::kFloat);
  at::Tensor scale, zp;
  if (scheme.symmetric) {
    mx = at::maximum(mn.neg(), mx);
    scale = at::maximum(mx.div(static_cast<double>(qmax - qmin) / 2.0), eps_t);
    zp = at::zeros(scale.sizes(), at::kInt);
  } else {
    scale = at::maximum(mx.sub(mn).div(static_cast<double>(qmax - qmin)), eps_t);
    zp = mn.div(scale).round().to(at::kInt).neg().add(qmin).clamp(qmin, qmax).to(at::kInt);
  }
  if (!scale.isfinite().all().item<bool>())
    throw DataError(who + ": the observed range [" + std::to_string(mnf.min().item<float>()) + ", " +
                    std::to_string(mxf.max().item<float>()) +
                    "] is too wide for a float32 scale (the scale would be infinite)");
  if (scale.dim() == 0) {
    scale = scale.reshape({1});
    zp = zp.reshape({1});
  }
  return {scale, zp};
}

at::Tensor round_scale_to_pot(const at::Tensor& scale) {
  return at::pow(2, scale.log2().round());
}

at::Tensor channels_first_2d(const at::Tensor& x, int ch_axis) {
  at::Tensor y = ch_axis == 0 ? x : x.transpose(0, ch_axis);
  return y.reshape({y.size(0), -1});
}

std::pair<at::Tensor, at::Tensor> tensor_minmax(const at::Tensor& x, int ch_axis) {
  if (ch_axis < 0) {
    auto r = at::aminmax(x);
    return {std::get<0>(r), std::get<1>(r)};
  }
  auto r = at::aminmax(channels_first_2d(x, ch_axis), 1);
  return {std::get<0>(r), std::get<1>(r)};
}

}  // namespace mqb

namespace mqb {

ScalarQParams qparams_scalar(float min_val, float max_val, const QScheme& scheme, float eps) {
  const int64_t qmin = scheme.quant_min(), qmax = scheme.quant_max();
  const float mn = std::min(min_val, 0.0f), mx = std::max(max_val, 0.0f);
  if (scheme.symmetric) {
    const float a = std::max(-mn, mx);
    const float s = std::max(a / static_cast<float>(static_cast<double>(qmax - qmin) / 2.0), eps);
    return {s, 0};
  }
  const float s = std::max((mx - mn) / static_cast<float>(qmax - qmin), eps);
  int64_t z = qmin - static_cast<int32_t>(std::nearbyint(mn / s));
  z = std::min(std::max(z, qmin), qmax);
  return {s, static_cast<int32_t>(z)};
}

float ema_scalar(float old_value, float current, double ratio) {
  const float r = static_cast<float>(ratio), q = static_cast<float>(1.0 - ratio);
  volatile float a = old_value * r;  // two separately rounded products, never fused
  volatile float b = current * q;
  return a + b;
}

at::Tensor ema_update(const at::Tensor& old_value, const at::Tensor& current, double ratio) {
  std::vector<float> o = to_float_vector(old_value), c = to_float_vector(current);
  if (o.size() != c.size())
    throw DataError("moving average over statistics of different sizes (" + std::to_string(o.size()) + " vs " +
                    std::to_string(c.size()) + "); per-channel data changed its channel count");
  for (size_t i = 0; i < o.size(); ++i) o[i] = ema_scalar(o[i], c[i], ratio);
  at::Tensor out = at::empty(current.sizes(), at::kFloat);
  std::copy(o.begin(), o.end(), out.data_ptr<float>());
  return out;
}

at::Tensor float_tensor(const std::vector<float>& values, bool per_channel) {
  at::Tensor t = per_channel ? at::empty({static_cast<int64_t>(values.size())}, at::kFloat) : at::empty({}, at::kFloat);
  if (!per_channel && values.size() != 1) throw DataError("internal: per-tensor statistic with several values");
  std::copy(values.begin(), values.end(), t.data_ptr<float>());
  return t;
}

std::vector<float> to_float_vector(const at::Tensor& t) {
  at::Tensor c = t.detach().to(at::kFloat).contiguous();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

}  // namespace mqb
