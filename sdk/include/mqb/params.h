// Plugin parameters as they cross the plugin boundary: a flat table of typed
// values, each remembering where it came from (TOML file:line:column or a CLI
// flag) so that a plugin rejecting a value can say exactly where it was written.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "mqb/error.h"

namespace mqb {

struct MQB_API SourceLocation {
  std::string file;  // empty when the value was set by code
  int line = 0;
  int column = 0;
  std::string describe() const;  // "cfg.toml:12:5" or "(set by code)"
};

using ParamValue = std::variant<bool, int64_t, double, std::string>;

class MQB_API Params {
 public:
  // `path` names the table in messages, e.g. "extra_qconfig.w_observer_extra_args".
  Params() = default;
  explicit Params(std::string path) : path_(std::move(path)) {}

  void set(const std::string& key, ParamValue value, SourceLocation where = {});
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  bool empty() const { return values_.empty(); }
  const std::string& path() const { return path_; }
  std::vector<std::string> keys() const;
  const ParamValue& value(const std::string& key) const;
  const SourceLocation& location(const std::string& key) const;
  // Copies every entry of `other` over this one (later layers win).
  void merge_from(const Params& other);

  // Typed reads; each marks the key as known. A wrong type is a ConfigError
  // naming the key, its location, the found and the accepted type.
  double real(const std::string& key, double fallback) const;
  int64_t integer(const std::string& key, int64_t fallback) const;
  bool boolean(const std::string& key, bool fallback) const;
  std::string text(const std::string& key, const std::string& fallback) const;

  // Range checks that report the key and its location.
  void require(bool ok, const std::string& key, const std::string& accepted) const;

  // Throws ConfigError for every key never read, listing the keys `owner` accepts.
  void reject_unknown(const std::string& owner) const;

  std::string to_string(const std::string& key) const;  // value as TOML text

 private:
  [[noreturn]] void type_error(const std::string& key, const char* accepted) const;
  std::string where(const std::string& key) const;
  std::string path_;
  std::map<std::string, ParamValue> values_;
  std::map<std::string, SourceLocation> locations_;
  std::map<std::string, std::string> tables_;  // table path each key was written in
  mutable std::set<std::string> known_;
};

}  // namespace mqb
