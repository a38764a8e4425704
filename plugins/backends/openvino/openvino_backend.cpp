// OPENVINO backend preset: Intel OpenVINO: 7-bit symmetric per-channel weights, unsigned activations after ReLU.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

// OpenVINO reads QuantizeLinear/DequantizeLinear natively (its ONNX frontend turns each
// pair into a FakeQuantize), so the QDQ model is its model. The FakeQuantize parameters
// are written too (DEPLOY.md): levels and input/output ranges, per-channel ranges shaped
// [C, 1, 1, 1] so that they broadcast (MQBench leaves them 1-D, spec §8.36).
void write_files(DeployContext& ctx) {
  nlohmann::json table = nlohmann::json::object();
  for (const DeploySite& s : ctx.sites()) {
    nlohmann::json lo = nlohmann::json::array(), hi = nlohmann::json::array();
    for (size_t c = 0; c < s.scale.size(); ++c) {
      lo.push_back(s.range_min(c));
      hi.push_back(s.range_max(c));
    }
    std::vector<int64_t> shape{static_cast<int64_t>(s.scale.size())};
    if (s.per_channel()) shape = {static_cast<int64_t>(s.scale.size()), 1, 1, 1};
    table[s.tensor] = {{"levels", s.quant_max - s.quant_min + 1}, {"input_low", lo}, {"input_high", hi},
                       {"output_low", lo}, {"output_high", hi}, {"shape", shape}};
  }
  ctx.write_json(ctx.model_name() + "_fakequantize.json", table);
}

BackendSpec spec() {
  BackendSpec s;
  s.name = "OPENVINO";
  // OpenVINO's quantizer narrows weights to [-64, 63] (7 bit); activations after
  // ReLU-like producers become unsigned [0, 255] with a symmetric scheme.
  s.defaults = lsq_defaults(make_qscheme(7, true, true), make_qscheme(8, true, false));
  s.rules.graph_quantizer = "OPENVINOQuantizer";
  s.rules.weight_ops = conv_like_ops();
  s.rules.act_input_ops = {"conv", "linear", "add", "max_pool", "avg_pool", "upsample", "flatten", "mean", "sum"};
  s.rules.unsigned_after_relu = true;
  s.rules.skip_producers_feeding_output = true;
  s.rules.reuse_quantizer_ops = {"max_pool", "flatten"};
  s.rules.pass_through_producers = {"concat"};
  s.rules.supports_academic_mode = true;
  s.deploy = write_files;
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(OPENVINO, "Intel OpenVINO: 7-bit symmetric per-channel weights, unsigned activations after ReLU", spec)
