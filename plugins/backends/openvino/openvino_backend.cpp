// OPENVINO backend preset: Intel OpenVINO: 7-bit symmetric per-channel weights, unsigned activations after ReLU.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

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
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(OPENVINO, "Intel OpenVINO: 7-bit symmetric per-channel weights, unsigned activations after ReLU", spec)
