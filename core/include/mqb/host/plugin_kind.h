// Plugin kinds and the one name-to-file rule:
//   kind K, name N  ->  libmqb_<K>_<lowercase N>.so
// e.g. observer "MSEObserver" -> libmqb_observer_mseobserver.so.
#pragma once
#include <optional>
#include <string>

#include "mqb/error.h"

namespace mqb {

enum class PluginKind { Observer, Quantizer, Backend };

MQB_API const char* to_string(PluginKind kind);
MQB_API std::optional<PluginKind> parse_plugin_kind(const std::string& text);
MQB_API std::string plugin_file_name(PluginKind kind, const std::string& name);
// The (kind, lowercase name) a file name encodes under the rule, if it follows it.
MQB_API std::optional<std::pair<PluginKind, std::string>> parse_plugin_file_name(const std::string& file);

}  // namespace mqb
