// check_plugin_file: classify the file by its name, load it through the real
// registry (descriptor, ABI, name checks), then run its kind's checks.
#include "plugin_check.h"

#include <algorithm>

#include "check_recorder.h"
#include "kind_checks.h"
#include "mqb/host/registry.h"

namespace mqb::check {

namespace fs = std::filesystem;

const char* to_string(Status s) {
  switch (s) {
    case Status::Pass: return "pass";
    case Status::Fail: return "FAIL";
    case Status::Skip: return "skip";
  }
  return "?";
}

bool PluginCheckReport::passed() const {
  return !checks.empty() &&
         std::none_of(checks.begin(), checks.end(), [](const CheckResult& c) { return c.status == Status::Fail; });
}

PluginCheckReport check_plugin_file(const fs::path& file, const PluginCheckOptions& options) {
  PluginCheckReport report;
  report.file = file.string();
  Recorder rec(report.checks);
  std::optional<std::pair<PluginKind, std::string>> parsed;
  const bool named = rec.run("file", [&]() -> std::string {
    std::error_code ec;
    expect(fs::is_regular_file(file, ec), "no such file");
    parsed = parse_plugin_file_name(file.filename().string());
    expect(parsed.has_value(), "the loader only finds files named libmqb_<kind>_<lowercase name>.so "
                               "(kind: observer, quantizer or backend); rename the library or build it "
                               "with mqb_add_plugin");
    report.kind = to_string(parsed->first);
    return "a plugin file of kind " + report.kind;
  });
  if (!named) return report;

  // The file's own folder first, then the usual search path (for the observers and
  // quantizers a checked quantizer or backend names).
  std::vector<fs::path> dirs{fs::absolute(file).parent_path()};
  dirs.insert(dirs.end(), options.plugin_dirs.begin(), options.plugin_dirs.end());
  Registry registry(SearchPath::standard(dirs));
  const PluginKind kind = parsed->first;
  const bool loaded = rec.run("descriptor", [&]() -> std::string {
    const PluginListing listing = registry.list(kind);
    std::error_code ec;
    const fs::path wanted = fs::canonical(file, ec);
    for (const auto& [f, why] : listing.refused)
      if (fs::canonical(f, ec) == wanted) throw CheckFailed("refused by the loader: " + why);
    for (const auto& p : listing.plugins)
      if (fs::canonical(p.file, ec) == wanted) report.name = p.name;
    expect(!report.name.empty(), "the loader did not list this file (another file of the same name comes "
                                 "first on the search path?)");
    const PluginInfo info = registry.info(kind, report.name);  // the load a config would do
    expect(fs::canonical(info.file, ec) == wanted, "loading '" + report.name + "' by name finds " + info.file +
                                                       " instead (remove it from the search path)");
    expect(!info.description.empty(), "the descriptor has no description");
    return report.name + " " + info.version + ", SDK " + info.sdk_version + ", LibTorch " + info.torch_version +
           ": \"" + info.description + "\"";
  });
  if (!loaded) return report;

  switch (kind) {
    case PluginKind::Observer: check_observer(registry, report.name, options, rec); break;
    case PluginKind::Quantizer: check_quantizer(registry, report.name, options, rec); break;
    case PluginKind::Backend: check_backend(registry, report.name, options, rec); break;
  }
  return report;
}

}  // namespace mqb::check
