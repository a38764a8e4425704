// ONNX_QNN backend preset: ONNX QLinear operators: 8-bit asymmetric, no weight quantization on Linear.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

// ONNX_QNN runs QLinear operators (TVM, ONNX Runtime): the model in the QLinear form,
// which `mqbench verify` runs next to the QDQ model (DEPLOY.md).
void write_files(DeployContext& ctx) { ctx.write_onnx(ctx.model_name() + "_qlinear.onnx", OnnxForm::QLinear); }

BackendSpec spec() {
  BackendSpec s;
  s.name = "ONNX_QNN";
  s.defaults = lsq_defaults(make_qscheme(8, false, false), make_qscheme(8, false, false), "MinMaxObserver");
  s.rules.graph_quantizer = "ONNXQNNQuantizer";
  s.rules.weight_ops = {"conv"};  // Linear is not swapped: FC weights stay float
  s.rules.act_input_ops = {"conv", "add", "avg_pool"};
  s.rules.act_output_ops = {"conv", "add", "avg_pool"};
  s.rules.output_pass_through_ops = {"relu", "relu6"};
  s.rules.implicit_merges = {"relu<-add"};
  s.deploy = write_files;
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(ONNX_QNN, "ONNX QLinear operators: 8-bit asymmetric, no weight quantization on Linear", spec)
