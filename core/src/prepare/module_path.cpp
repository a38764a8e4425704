// Module paths and type names (see module_path.h).
#include "module_path.h"

namespace mqb::prep {

std::string last_component(const std::string& name) {
  const size_t p = name.find_last_of(".:");
  return p == std::string::npos ? name : name.substr(p + 1);
}

std::optional<torch::jit::Module> submodule_at(const torch::jit::Module& root, const std::string& path,
                                               std::string* missing) {
  torch::jit::Module cur = root;
  size_t start = 0;
  while (!path.empty() && start <= path.size()) {
    const size_t dot = std::min(path.find('.', start), path.size());
    const std::string part = path.substr(start, dot - start);
    c10::IValue sub = cur.hasattr(part) ? cur.attr(part) : c10::IValue();
    if (!sub.isObject()) {
      if (missing) *missing = path.substr(0, dot);
      return std::nullopt;
    }
    cur = torch::jit::Module(sub.toObject());
    start = dot + 1;
  }
  return cur;
}

}  // namespace mqb::prep
