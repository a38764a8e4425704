// Academic backend preset: Research setting: user-chosen schemes, 8-bit first and last layers.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

BackendSpec spec() {
  BackendSpec s;
  s.name = "Academic";
  s.rules.graph_quantizer = "AcademicQuantizer";
  s.rules.weight_ops = conv_like_ops();
  s.rules.act_input_ops = {"conv", "linear"};
  s.rules.first_last_layer_8bit = true;
  s.rules.fold_bn = false;
  s.rules.fuse_conv_bn_relu = false;  // AcademicQuantizer does not fuse: BN stays float
  s.rules.skip_consumers_with_scalar_inputs = true;
  s.rules.implicit_merges = {"add<-mul"};
  s.policy.requires_full_user_qconfig = true;
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(Academic, "Research setting: user-chosen schemes, 8-bit first and last layers", spec)
