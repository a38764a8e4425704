// `mqbench plugins`: what is on the search path, read from descriptors only.
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli_common.h"
#include "mqb/host/registry.h"

namespace mqb::cli {

int cmd_plugins(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description opts("options");
  std::string kind_text;
  std::vector<std::string> dirs;
  opts.add_options()("kind", po::value(&kind_text), "only this kind: observer, quantizer or backend")(
      "plugin-dir", po::value(&dirs)->composing(), "search this directory first (repeatable)")(
      "json", "print JSON instead of a table");
  po::variables_map vm;
  if (!parse_options(args, opts, {}, vm, "mqbench plugins [--kind K] [--plugin-dir DIR] [--json]", out)) return kOk;
  std::optional<PluginKind> kind;
  if (!kind_text.empty()) {
    kind = parse_plugin_kind(kind_text);
    if (!kind) throw UsageError("--kind " + kind_text + ": accepted: observer, quantizer, backend");
  }
  std::vector<std::filesystem::path> extra(dirs.begin(), dirs.end());
  Registry registry(SearchPath::standard(extra));
  PluginListing listing = registry.list(kind);
  std::sort(listing.plugins.begin(), listing.plugins.end(), [](const PluginInfo& a, const PluginInfo& b) {
    return std::make_pair(a.kind, a.name) < std::make_pair(b.kind, b.name);
  });

  if (vm.count("json")) {
    nlohmann::json j = {{"plugins", nlohmann::json::array()}, {"refused", nlohmann::json::array()}};
    for (const auto& p : listing.plugins)
      j["plugins"].push_back({{"name", p.name}, {"kind", to_string(p.kind)}, {"version", p.version},
                              {"sdk_version", p.sdk_version}, {"torch_version", p.torch_version},
                              {"file", p.file}, {"description", p.description}});
    for (const auto& r : listing.refused) j["refused"].push_back({{"file", r.first}, {"reason", r.second}});
    for (const auto& e : registry.search_path().entries())
      j["search_path"].push_back({{"dir", e.dir.string()}, {"origin", e.origin}});
    out << j.dump(2) << "\n";
    return kOk;
  }
  size_t w = 4;
  for (const auto& p : listing.plugins) w = std::max(w, p.name.size());
  out << std::left << std::setw(static_cast<int>(w) + 2) << "NAME" << std::setw(11) << "KIND" << std::setw(9)
      << "VERSION" << "DESCRIPTION\n";
  for (const auto& p : listing.plugins)
    out << std::setw(static_cast<int>(w) + 2) << p.name << std::setw(11) << to_string(p.kind) << std::setw(9)
        << p.version << p.description << "\n"
        << std::setw(static_cast<int>(w) + 2) << "" << "  " << p.file << "\n";
  out << listing.plugins.size() << " plugin(s)\n";
  if (!listing.refused.empty()) {
    out << "\nrefused files:\n";
    for (const auto& r : listing.refused) out << "  " << r.first << ": " << r.second << "\n";
  }
  out << "\nsearch path:\n" << registry.search_path().describe();
  return kOk;
}

}  // namespace mqb::cli
