// TensorRT's deploy files (see DEPLOY.md): the float ONNX model with clipped weights,
// per-tensor dynamic ranges as JSON (MQBench's clip_ranges format) and the same ranges
// as an INT8 calibration cache that trtexec / IInt8Calibrator read.
#include "tensorrt_deploy.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <sstream>

namespace mqb::tensorrt {

namespace {

// TensorRT's int8 is symmetric: the dynamic range of a tensor is scale * max(-qmin, qmax)
// (127 * scale for [-127, 127] and [-128, 127]). A non-zero zero point cannot be expressed.
double dynamic_range(const DeploySite& s) {
  for (int64_t z : s.zero_point)
    if (z != 0)
      throw Error("Tensorrt deploy: site '" + s.name + "' has zero point " + std::to_string(z) +
                  "; TensorRT's int8 is symmetric, use a symmetric activation scheme (a_qscheme.symmetry = true)");
  return s.scale.at(0) * static_cast<double>(std::max(-s.quant_min, s.quant_max));
}

// The cache stores the per-tensor scale (range / 127) as the hex of its float32 bits.
std::string float_bits_hex(double v) {
  const float f = static_cast<float>(v);
  uint32_t bits = 0;
  std::memcpy(&bits, &f, sizeof bits);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", bits);
  return buf;
}

}  // namespace

void write_deploy_files(DeployContext& ctx) {
  ctx.write_onnx(ctx.model_name() + "_deploy_model.onnx", OnnxForm::Float);
  nlohmann::json ranges = nlohmann::json::object();
  std::ostringstream cache;
  cache << "TRT-8601-EntropyCalibration2\n";
  for (const DeploySite& s : ctx.sites()) {
    if (s.is_weight) continue;  // weights are clipped in the ONNX model and calibrated by TensorRT
    if (s.per_channel())
      throw Error("Tensorrt deploy: activation site '" + s.name + "' is per-channel; TensorRT ranges are per tensor");
    const double range = dynamic_range(s);
    ranges[s.tensor] = range;
    cache << s.tensor << ": " << float_bits_hex(range / 127.0) << "\n";
  }
  ctx.write_json(ctx.model_name() + "_clip_ranges.json", {{"tensorrt", {{"blob_range", ranges}}}});
  ctx.write_text(ctx.model_name() + "_calibration.cache", cache.str());
}

}  // namespace mqb::tensorrt
