// The Registry: finds plugins by name on the search path, loads them lazily with
// Boost.DLL, checks each descriptor before using it, and creates objects. Libraries
// are never unloaded; every object a plugin creates holds its library's handle.
#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "mqb/host/plugin_kind.h"
#include "mqb/host/search_path.h"
#include "mqb/plugin.h"

namespace mqb {

// What a descriptor says, as read without creating anything.
struct PluginInfo {
  PluginKind kind;
  std::string name;
  std::string description;
  std::string version;
  std::string sdk_version;
  std::string torch_version;
  std::string file;  // "(static)" for linked-in plugins
};

// A listing: the plugins found and the files refused, with the reason for each.
struct PluginListing {
  std::vector<PluginInfo> plugins;
  std::vector<std::pair<std::string, std::string>> refused;  // file, reason
};

class LoadedLibrary;  // RAII owner of one dlopen handle

class MQB_API Registry {
 public:
  Registry();
  explicit Registry(SearchPath path);
  ~Registry();
  // The process-wide registry (defined out of line: one instance for host and plugins).
  static Registry& instance();

  void set_search_path(SearchPath path);
  const SearchPath& search_path() const { return path_; }
  // Registers a plugin linked into the program (MQB_STATIC_PLUGIN builds).
  void add_static(const mqb_plugin_descriptor* descriptor);

  // Reads every plugin's descriptor on the search path; creates no object.
  PluginListing list(std::optional<PluginKind> kind = std::nullopt);
  // Loads (once) and checks the plugin; throws PluginError otherwise.
  PluginInfo info(PluginKind kind, const std::string& name);

  std::shared_ptr<Observer> create_observer(const std::string& name, const ObserverArgs& args);
  // Creates the observer by name first, then the quantizer that owns it.
  std::shared_ptr<FakeQuantize> create_quantizer(const std::string& name, const QScheme& scheme,
                                                 const Params& fakeq_params,
                                                 const std::string& observer_name,
                                                 const Params& observer_args);
  std::shared_ptr<BackendPreset> create_backend(const std::string& name, const Params& params = Params());

 private:
  struct Entry {
    std::shared_ptr<LoadedLibrary> library;  // null for static plugins
    const mqb_plugin_descriptor* descriptor = nullptr;
    std::string file;
  };
  const Entry& load(PluginKind kind, const std::string& name);
  [[noreturn]] void unknown_name(PluginKind kind, const std::string& name,
                                 const std::vector<std::string>& tried);

  SearchPath path_;
  std::map<std::pair<PluginKind, std::string>, Entry> loaded_;
  std::mutex mutex_;
};

// Checks a descriptor against this host (ABI, SDK, LibTorch, C++ ABI) and, when given,
// the expected kind and name. Returns the reason for refusal, or nullopt when accepted.
MQB_API std::optional<std::string> check_descriptor(const mqb_plugin_descriptor* d,
                                                    std::optional<PluginKind> kind,
                                                    const std::string& name);

// Levenshtein-closest candidates for "did you mean" (case-insensitive), best first.
MQB_API std::vector<std::string> closest_names(const std::string& wanted,
                                               const std::vector<std::string>& candidates);

}  // namespace mqb
