// Tensorrt_NLP backend preset: NVIDIA TensorRT for transformers: TensorRT schemes, matmul and linear sites.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"
#include "tensorrt_deploy.h"

namespace {

using namespace mqb;

BackendSpec spec() {
  BackendSpec s;
  s.name = "Tensorrt_NLP";
  s.defaults = lsq_defaults(make_qscheme(8, true, true, true), make_qscheme(8, true, false, true));
  s.rules.graph_quantizer = "TensorrtNLPQuantizer";
  s.rules.weight_ops = conv_like_ops();
  s.rules.act_input_ops = {"linear", "matmul", "add"};
  s.rules.skip_consumers_with_scalar_inputs = true;
  // scale-shift, the attention-mask add after the scaled scores, embedding sums
  s.rules.implicit_merges = {"add<-mul", "add<-div", "add<-embedding"};
  s.deploy = tensorrt::write_deploy_files;  // the same files as Tensorrt
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(Tensorrt_NLP, "NVIDIA TensorRT for transformers: TensorRT schemes, matmul and linear sites", spec)
