// Where plugins are looked for, in order: the config's plugin_dirs, MQB_PLUGIN_PATH
// (colon-separated), the install directory (<prefix>/lib/mqbench/plugins, found
// relative to the running executable), then the build tree (only for programs that
// run from the build tree).
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "mqb/error.h"

namespace mqb {

struct SearchEntry {
  std::filesystem::path dir;
  std::string origin;  // "config plugin_dirs", "MQB_PLUGIN_PATH", "install dir", "build tree"
};

class MQB_API SearchPath {
 public:
  SearchPath() = default;
  // The standard order with `config_dirs` first. Duplicate directories are dropped.
  static SearchPath standard(const std::vector<std::filesystem::path>& config_dirs = {});
  void add(const std::filesystem::path& dir, const std::string& origin);
  const std::vector<SearchEntry>& entries() const { return entries_; }
  std::string describe() const;  // one "  dir (origin)" line per entry

 private:
  std::vector<SearchEntry> entries_;
};

}  // namespace mqb
