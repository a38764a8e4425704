// Names of modules and their types as the prepare passes read them: dotted submodule
// paths ("layer1.0.conv1") and qualified class names ("__torch__.torch.nn.Conv2d").
#pragma once
#include <torch/csrc/jit/api/module.h>

#include <optional>
#include <string>

namespace mqb::prep {

// The last component of a dotted or "::" name: "torch.nn.Hardswish" -> "Hardswish",
// "aten::add" -> "add".
std::string last_component(const std::string& name);

// The submodule at the dotted `path` ("" is `root` itself); nullopt when a component is
// missing or not a module, with `missing` (when given) set to the path up to and
// including that component.
std::optional<torch::jit::Module> submodule_at(const torch::jit::Module& root, const std::string& path,
                                               std::string* missing = nullptr);

}  // namespace mqb::prep
