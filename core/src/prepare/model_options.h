// MQBench's tracer options (preserve_attr, concrete_args, leaf_module; spec §5.2)
// applied to a TorchScript module and its forward graph during prepare().
#pragma once
#include <torch/csrc/jit/api/module.h>
#include <torch/csrc/jit/ir/ir.h>

#include <memory>
#include <string>

#include "mqb/host/config.h"

namespace mqb::prep {

// Inlines every method and function call of `graph` except calls of modules whose
// class name (last component, e.g. "Mixer" for __torch__.Mixer) is in `leaf_types`:
// those stay one prim::CallMethod, so nothing inside them gets a site. With no leaf
// types this is torch::jit::Inline.
void inline_calls_except(const std::shared_ptr<torch::jit::Graph>& graph, const std::vector<std::string>& leaf_types);

// Replaces the named forward arguments by constants and folds what they decide
// (prim::If on a flag). The arguments stay in the signature, their values unused.
// Throws ModelError naming the forward's arguments when a name is not one of them,
// and ConfigError when a value's type does not fit the argument.
void apply_concrete_args(const std::shared_ptr<torch::jit::Graph>& graph, const Params& concrete_args);

// Checks that every attribute or method preserve_attr lists exists (the prepared and
// deployed modules are clones, so they keep all of them). Throws ModelError otherwise.
void check_preserved_attributes(const torch::jit::Module& module,
                                const std::map<std::string, std::vector<std::string>>& preserve_attr);

}  // namespace mqb::prep
