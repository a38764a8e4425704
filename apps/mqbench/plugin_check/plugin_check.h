// The plugin conformance kit behind `mqbench check-plugin FILE.so`: loads one plugin
// library through the real registry (so the descriptor is checked exactly as a config
// would have it checked), then runs the generic checks of its kind. Each check passes,
// fails (with why) or is skipped (with why); nothing a plugin does may escape as an
// exception: a throw from the plugin is that check's failure.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "mqb/params.h"

namespace mqb::check {

enum class Status { Pass, Fail, Skip };
const char* to_string(Status s);

struct CheckResult {
  std::string name;    // e.g. "per_channel.state_round_trip"
  Status status = Status::Pass;
  std::string detail;  // what was measured, or why it failed / was skipped
};

struct PluginCheckOptions {
  std::vector<std::filesystem::path> plugin_dirs;  // searched after the file's own folder
  std::string observer = "MinMaxObserver";         // the observer a checked quantizer owns
  Params plugin_params{"--param"};                 // parameters for the checked plugin
  Params observer_params{"--observer-param"};      // parameters for that observer
  uint64_t seed = 0;                               // of every random input
};

struct PluginCheckReport {
  std::string file;
  std::string kind;  // empty when the file could not even be classified
  std::string name;
  std::vector<CheckResult> checks;
  bool passed() const;
};

PluginCheckReport check_plugin_file(const std::filesystem::path& file, const PluginCheckOptions& options);

}  // namespace mqb::check
