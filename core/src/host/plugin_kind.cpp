// Plugin kinds and the name-to-file rule (see mqb/host/plugin_kind.h).
#include "mqb/host/plugin_kind.h"

#include <algorithm>
#include <cctype>

namespace mqb {

const char* to_string(PluginKind kind) {
  switch (kind) {
    case PluginKind::Observer: return "observer";
    case PluginKind::Quantizer: return "quantizer";
    case PluginKind::Backend: return "backend";
  }
  return "?";
}

std::optional<PluginKind> parse_plugin_kind(const std::string& text) {
  for (PluginKind k : {PluginKind::Observer, PluginKind::Quantizer, PluginKind::Backend})
    if (text == to_string(k)) return k;
  return std::nullopt;
}

static std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string plugin_file_name(PluginKind kind, const std::string& name) {
  return std::string("libmqb_") + to_string(kind) + "_" + lower(name) + ".so";
}

std::optional<std::pair<PluginKind, std::string>> parse_plugin_file_name(const std::string& file) {
  const std::string prefix = "libmqb_", suffix = ".so";
  if (file.size() <= prefix.size() + suffix.size() || file.compare(0, prefix.size(), prefix) != 0 ||
      file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0)
    return std::nullopt;
  const std::string middle = file.substr(prefix.size(), file.size() - prefix.size() - suffix.size());
  const auto us = middle.find('_');
  if (us == std::string::npos || us + 1 >= middle.size()) return std::nullopt;
  auto kind = parse_plugin_kind(middle.substr(0, us));
  if (!kind) return std::nullopt;
  return std::make_pair(*kind, middle.substr(us + 1));
}

}  // namespace mqb
