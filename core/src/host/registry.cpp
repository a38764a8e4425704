// The plugin registry (see mqb/host/registry.h).
#include "mqb/host/registry.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "loaded_library.h"

namespace fs = std::filesystem;

namespace mqb {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

PluginInfo info_of(const mqb_plugin_descriptor* d, const std::string& file) {
  return {*parse_plugin_kind(d->kind), d->name, d->description ? d->description : "",
          d->plugin_version ? d->plugin_version : "", d->sdk_version, d->torch_version, file};
}

// Opened libraries by canonical path, shared by every Registry of the process so a
// file is dlopen'ed once however many times it is listed or loaded.
std::map<std::string, std::shared_ptr<LoadedLibrary>>& open_libraries() {
  static std::map<std::string, std::shared_ptr<LoadedLibrary>> libs;
  return libs;
}
std::mutex& open_libraries_mutex() {
  static std::mutex m;
  return m;
}

std::shared_ptr<LoadedLibrary> open_library(const fs::path& file) {
  std::error_code ec;
  const std::string key = fs::canonical(file, ec).string();
  std::lock_guard<std::mutex> lock(open_libraries_mutex());
  auto& libs = open_libraries();
  auto it = libs.find(key);
  if (it != libs.end()) return it->second;
  auto lib = std::make_shared<LoadedLibrary>(file);
  libs[key] = lib;
  return lib;
}

// Static plugins, keyed like loaded ones.
std::map<std::pair<PluginKind, std::string>, const mqb_plugin_descriptor*>& static_plugins() {
  static std::map<std::pair<PluginKind, std::string>, const mqb_plugin_descriptor*> m;
  return m;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::vector<std::string> closest_names(const std::string& wanted, const std::vector<std::string>& candidates) {
  std::vector<std::pair<size_t, std::string>> scored;
  const std::string w = lower(wanted);
  for (const auto& c : candidates) {
    const std::string lc = lower(c);
    size_t d = edit_distance(w, lc);
    // A prefix or substring match is a strong hint even when the edit distance is large.
    if (lc.find(w) != std::string::npos || w.find(lc) != std::string::npos) d = std::min<size_t>(d, 1);
    if (d <= std::max<size_t>(2, w.size() / 3)) scored.emplace_back(d, c);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (const auto& s : scored)
    if (out.size() < 3 && std::find(out.begin(), out.end(), s.second) == out.end()) out.push_back(s.second);
  return out;
}

Registry::Registry() : path_(SearchPath::standard()) {}
Registry::Registry(SearchPath path) : path_(std::move(path)) {}
Registry::~Registry() = default;

Registry& Registry::instance() {
  static Registry registry;
  return registry;
}

void Registry::set_search_path(SearchPath path) {
  std::lock_guard<std::mutex> lock(mutex_);
  path_ = std::move(path);
  loaded_.clear();
}

void Registry::add_static(const mqb_plugin_descriptor* d) {
  if (auto why = check_descriptor(d, std::nullopt, ""))
    throw PluginError("(static plugin): refused: " + *why);
  static_plugins()[{*parse_plugin_kind(d->kind), d->name}] = d;
}

PluginListing Registry::list(std::optional<PluginKind> kind) {
  PluginListing out;
  std::map<std::pair<PluginKind, std::string>, std::string> seen;  // -> file
  for (const auto& kv : static_plugins()) {
    if (kind && kv.first.first != *kind) continue;
    out.plugins.push_back(info_of(kv.second, "(static)"));
    seen[kv.first] = "(static)";
  }
  for (const auto& entry : path_.entries()) {
    std::error_code ec;
    if (!fs::is_directory(entry.dir, ec)) continue;
    std::vector<fs::path> files;
    for (const auto& f : fs::directory_iterator(entry.dir, ec)) files.push_back(f.path());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      auto parsed = parse_plugin_file_name(file.filename().string());
      if (!parsed || (kind && parsed->first != *kind)) continue;
      try {
        auto lib = open_library(file);
        const mqb_plugin_descriptor* d = lib->descriptor();
        if (auto why = check_descriptor(d, parsed->first, "")) {
          out.refused.emplace_back(file.string(), *why);
          continue;
        }
        if (lower(d->name) != parsed->second) {
          out.refused.emplace_back(file.string(), std::string("declares name '") + d->name +
                                                      "' but the file name says '" + parsed->second +
                                                      "' (rule: " + plugin_file_name(parsed->first, d->name) + ")");
          continue;
        }
        auto key = std::make_pair(parsed->first, std::string(d->name));
        auto dup = seen.find(key);
        if (dup != seen.end()) {
          out.refused.emplace_back(file.string(), std::string("two plugins with one name: ") + to_string(key.first) +
                                                      " '" + key.second + "' is also provided by " + dup->second);
          continue;
        }
        seen[key] = file.string();
        out.plugins.push_back(info_of(d, file.string()));
      } catch (const PluginError& e) {
        out.refused.emplace_back(file.string(), e.what());
      }
    }
  }
  return out;
}

void Registry::unknown_name(PluginKind kind, const std::string& name, const std::vector<std::string>& tried) {
  std::vector<std::string> names;
  for (const auto& p : list(kind).plugins) names.push_back(p.name);
  std::ostringstream msg;
  msg << "unknown " << to_string(kind) << " '" << name << "'";
  auto close = closest_names(name, names);
  if (!close.empty()) {
    msg << "; did you mean ";
    for (size_t i = 0; i < close.size(); ++i) msg << (i ? " or " : "") << "'" << close[i] << "'";
    msg << "?";
  }
  msg << "\n  looked for " << plugin_file_name(kind, name) << " at:";
  for (const auto& t : tried) msg << "\n    " << t;
  if (tried.empty()) msg << " (the search path is empty)";
  msg << "\n  " << to_string(kind) << "s found: ";
  if (names.empty()) msg << "(none)";
  for (size_t i = 0; i < names.size(); ++i) msg << (i ? ", " : "") << names[i];
  msg << "\n  add a directory with plugin_dirs in the config or MQB_PLUGIN_PATH";
  throw PluginError(msg.str());
}

const Registry::Entry& Registry::load(PluginKind kind, const std::string& name) {
  auto key = std::make_pair(kind, name);
  std::vector<std::string> tried;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = loaded_.find(key); it != loaded_.end()) return it->second;
    if (auto it = static_plugins().find(key); it != static_plugins().end())
      return loaded_[key] = Entry{nullptr, it->second, "(static)"};

    const std::string file_name = plugin_file_name(kind, name);
    std::vector<fs::path> found;
    std::set<std::string> found_canonical;
    for (const auto& entry : path_.entries()) {
      fs::path candidate = entry.dir / file_name;
      tried.push_back(candidate.string() + " (" + entry.origin + ")");
      std::error_code ec;
      if (fs::exists(candidate, ec) && found_canonical.insert(fs::canonical(candidate, ec).string()).second)
        found.push_back(candidate);
    }
    if (found.size() > 1) {
      std::ostringstream msg;
      msg << "two plugins with one name: " << to_string(kind) << " '" << name << "' is provided by";
      for (const auto& f : found) msg << "\n    " << f.string();
      msg << "\n  remove one of them or drop its directory from the search path:\n" << path_.describe();
      throw PluginError(msg.str());
    }
    if (found.size() == 1) {
      auto lib = open_library(found.front());
      const mqb_plugin_descriptor* d = lib->descriptor();
      if (auto why = check_descriptor(d, kind, name))
        throw PluginError(found.front().string() + ": refused: " + *why);
      return loaded_[key] = Entry{lib, d, found.front().string()};
    }
  }
  // Not found: the message lists the plugins there are, which scans without the lock.
  unknown_name(kind, name, tried);
}

PluginInfo Registry::info(PluginKind kind, const std::string& name) {
  const Entry& e = load(kind, name);
  return info_of(e.descriptor, e.file);
}

std::shared_ptr<Observer> Registry::create_observer(const std::string& name, const ObserverArgs& args) {
  const Entry& e = load(PluginKind::Observer, name);
  args.qscheme.validate();
  auto lib = e.library;
  return std::shared_ptr<Observer>(e.descriptor->create_observer(args), [lib](Observer* o) { delete o; });
}

std::shared_ptr<FakeQuantize> Registry::create_quantizer(const std::string& name, const QScheme& scheme,
                                                         const Params& fakeq_params,
                                                         const std::string& observer_name,
                                                         const Params& observer_args) {
  const Entry& e = load(PluginKind::Quantizer, name);
  QuantizerArgs args{scheme, fakeq_params, create_observer(observer_name, ObserverArgs{scheme, observer_args})};
  auto lib = e.library;
  return std::shared_ptr<FakeQuantize>(e.descriptor->create_quantizer(args), [lib](FakeQuantize* q) { delete q; });
}

std::shared_ptr<BackendPreset> Registry::create_backend(const std::string& name, const Params& params) {
  const Entry& e = load(PluginKind::Backend, name);
  auto lib = e.library;
  return std::shared_ptr<BackendPreset>(e.descriptor->create_backend(params), [lib](BackendPreset* b) { delete b; });
}

}  // namespace mqb
