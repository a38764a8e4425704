// Academic_NLP backend preset: Research setting for transformers: user-chosen schemes, matmul and linear sites.
// Defaults and site rules from MQBench's prepare_by_platform table (spec §1.4, §2.4).
#include "mqb/backend_spec.h"
#include "mqb/plugin.h"

namespace {

using namespace mqb;

BackendSpec spec() {
  BackendSpec s;
  s.name = "Academic_NLP";
  s.rules.graph_quantizer = "AcademicNLPQuantizer";
  s.rules.weight_ops = conv_like_ops();
  s.rules.act_input_ops = {"linear", "matmul"};
  s.rules.implicit_merges = {"add<-mul"};
  s.policy.requires_full_user_qconfig = true;
  return s;
}

}  // namespace

MQB_DECLARED_BACKEND_PLUGIN(Academic_NLP, "Research setting for transformers: user-chosen schemes, matmul and linear sites", spec)
