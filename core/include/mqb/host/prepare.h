// prepare(): MQBench's prepare_by_platform for TorchScript models. Loads a model
// written by torch.jit.script or torch.jit.trace, clones it, folds BN (PTQ), inlines
// everything into the top-level forward, removes in-place ops and inserts one
// mqb::quantize site per tensor the backend's SiteRules select (see
// core/src/prepare/README.md for the pipeline, the site names and the differences
// from MQBench).
#pragma once
#include <filesystem>
#include <optional>
#include <string>

#include "mqb/host/config.h"
#include "mqb/host/prepared_model.h"

namespace mqb {

struct PrepareOptions {
  // Fold BatchNorm into the preceding conv (PTQ). nullopt: the backend's rules decide.
  std::optional<bool> fold_bn;
  // Print the "left in float" warning for unknown ops to stderr.
  bool warn_unsupported = true;
};

// Prepares the TorchScript file `model_file`. Throws ModelError (not TorchScript, no
// forward, empty graph), ConfigError / PluginError (bad config or plugins).
MQB_API PreparedModel prepare(const std::filesystem::path& model_file, const ResolvedConfig& config,
                              Registry& registry, const PrepareOptions& options = {});
// Loads the config file, resolves it against its backend, then prepares.
MQB_API PreparedModel prepare(const std::filesystem::path& model_file,
                              const std::filesystem::path& config_file, Registry& registry,
                              const PrepareOptions& options = {});

}  // namespace mqb
