// Tengine's scale file (see tengine_deploy.h and DEPLOY.md): one `name scale zero_point`
// line per per-tensor site, the record of a relu / relu6 output also on the Conv that
// feeds it, then MQBench's range propagation.
#include "tengine_deploy.h"

#include <cstdio>
#include <map>
#include <utility>
#include <vector>

namespace mqb::tengine {

namespace {

struct Record {
  double scale = 0;
  int64_t zero_point = 0;
};

// Records in first-insertion order (MQBench's OrderedDict): a later record for the same
// tensor replaces the values in place.
class ScaleLines {
 public:
  void set(const std::string& tensor, const Record& r) {
    auto [it, fresh] = index_.try_emplace(tensor, lines_.size());
    if (fresh) lines_.emplace_back(tensor, r);
    else lines_[it->second].second = r;
  }
  bool has(const std::string& tensor) const { return index_.count(tensor) > 0; }
  Record at(const std::string& tensor) const { return lines_[index_.at(tensor)].second; }
  std::string text() const {
    std::string out;
    for (const auto& [tensor, r] : lines_) {
      char line[64];
      std::snprintf(line, sizeof line, " %.9g %lld\n", r.scale, static_cast<long long>(r.zero_point));
      out += tensor + line;
    }
    return out;
  }

 private:
  std::vector<std::pair<std::string, Record>> lines_;
  std::map<std::string, size_t> index_;
};

bool is_scalar(const DeployGraph& g, const std::string& name, double v) {
  const DeployInitializer* i = g.initializer(name);
  return i && i->values.size() == 1 && i->values[0] == v;
}

// Tengine's converter fuses Conv+Relu and Conv+Clip(0, 6) into one layer whose output is
// the activation's: the Conv a relu / relu6 output comes from, or nullptr.
const DeployNode* fused_conv(const DeployGraph& g, const std::string& tensor) {
  const DeployNode* act = g.producer(tensor);
  if (!act || act->inputs.empty()) return nullptr;
  const bool relu = act->op_type == "Relu";  // MQBench tests "ReLU", which ONNX never names (DEPLOY.md)
  const bool relu6 = act->op_type == "Clip" && act->inputs.size() == 3 && is_scalar(g, act->inputs[1], 0) &&
                     is_scalar(g, act->inputs[2], 6);
  if (!relu && !relu6) return nullptr;
  const DeployNode* conv = g.producer(act->inputs[0]);
  return conv && conv->op_type == "Conv" ? conv : nullptr;
}

}  // namespace

void write_deploy_files(DeployContext& ctx) {
  ctx.write_onnx(ctx.model_name() + "_for_tengine.onnx", OnnxForm::Float);
  const DeployGraph& g = ctx.graph();
  ScaleLines lines;
  for (const DeploySite& s : ctx.sites()) {
    if (s.per_channel()) continue;  // per-channel weights are clipped in the model
    const Record r{s.scale.at(0), s.zero_point.at(0)};
    lines.set(s.tensor, r);
    if (s.is_weight) continue;
    if (const DeployNode* conv = fused_conv(g, s.tensor)) lines.set(conv->outputs.at(0), r);
  }
  for (const RangeCopy& c : propagated_ranges(g, [&](const std::string& t) { return lines.has(t); }))
    lines.set(c.to, lines.at(c.from));
  ctx.write_text(ctx.model_name() + "_for_tengine.scale", lines.text());
}

}  // namespace mqb::tengine
