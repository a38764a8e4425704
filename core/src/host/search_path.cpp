// The plugin search path (see mqb/host/search_path.h).
#include "mqb/host/search_path.h"

#include "mqb/build_paths.h"

#include <unistd.h>

#include <cstdlib>
#include <sstream>

namespace fs = std::filesystem;

namespace mqb {

namespace {
fs::path running_executable() {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : p;
}
bool is_under(const fs::path& p, const fs::path& root) {
  auto rel = p.lexically_relative(root);
  return !rel.empty() && *rel.begin() != "..";
}
}  // namespace

void SearchPath::add(const fs::path& dir, const std::string& origin) {
  if (dir.empty()) return;
  std::error_code ec;
  fs::path key = fs::weakly_canonical(dir, ec);
  if (ec) key = dir;
  for (const auto& e : entries_) {
    std::error_code ec2;
    fs::path other = fs::weakly_canonical(e.dir, ec2);
    if ((ec2 ? e.dir : other) == key) return;
  }
  entries_.push_back({dir, origin});
}

SearchPath SearchPath::standard(const std::vector<fs::path>& config_dirs) {
  SearchPath p;
  for (const auto& d : config_dirs) p.add(d, "config plugin_dirs");
  if (const char* env = std::getenv("MQB_PLUGIN_PATH")) {
    std::stringstream ss(env);
    std::string item;
    while (std::getline(ss, item, ':'))
      if (!item.empty()) p.add(item, "MQB_PLUGIN_PATH");
  }
  const fs::path exe = running_executable();
  if (!exe.empty()) p.add(exe.parent_path().parent_path() / MQB_INSTALL_PLUGIN_SUBDIR, "install dir");
  // The build tree only serves programs that run from it, so an installed copy never
  // mixes its plugins with a developer's build.
  if (!exe.empty() && is_under(exe, MQB_BUILD_ROOT)) p.add(MQB_BUILD_PLUGIN_DIR, "build tree");
  return p;
}

std::string SearchPath::describe() const {
  std::ostringstream s;
  if (entries_.empty()) s << "  (no directories)\n";
  for (const auto& e : entries_) s << "  " << e.dir.string() << " (" << e.origin << ")\n";
  return s.str();
}

}  // namespace mqb
