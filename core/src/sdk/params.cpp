// Params: typed, located plugin parameters with unknown-key detection.
#include "mqb/params.h"

#include <cmath>
#include <sstream>

namespace mqb {

std::string SourceLocation::describe() const {
  if (file.empty()) return "(set by code)";
  std::ostringstream s;
  s << file;
  if (line > 0) s << ":" << line << ":" << column;
  return s.str();
}

void Params::set(const std::string& key, ParamValue value, SourceLocation where) {
  values_[key] = std::move(value);
  locations_[key] = std::move(where);
  tables_[key] = path_;
}

std::vector<std::string> Params::keys() const {
  std::vector<std::string> out;
  for (const auto& kv : values_) out.push_back(kv.first);
  return out;
}

const ParamValue& Params::value(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw ConfigError("internal: parameter '" + key + "' not set");
  return it->second;
}

const SourceLocation& Params::location(const std::string& key) const {
  static const SourceLocation none;
  auto it = locations_.find(key);
  return it == locations_.end() ? none : it->second;
}

void Params::merge_from(const Params& other) {
  for (const auto& kv : other.values_) {
    set(kv.first, kv.second, other.location(kv.first));
    tables_[kv.first] = other.tables_.at(kv.first);
  }
}

std::string Params::where(const std::string& key) const {
  auto it = tables_.find(key);
  const std::string& table = it == tables_.end() ? path_ : it->second;
  return location(key).describe() + ": " + (table.empty() ? key : table + "." + key);
}

void Params::type_error(const std::string& key, const char* accepted) const {
  throw ConfigError(where(key) + " = " + to_string(key) + ": expected " + accepted);
}

double Params::real(const std::string& key, double fallback) const {
  known_.insert(key);
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  if (auto d = std::get_if<double>(&it->second)) return *d;
  if (auto i = std::get_if<int64_t>(&it->second)) return static_cast<double>(*i);
  type_error(key, "a number");
}

int64_t Params::integer(const std::string& key, int64_t fallback) const {
  known_.insert(key);
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  if (auto i = std::get_if<int64_t>(&it->second)) return *i;
  type_error(key, "an integer");
}

bool Params::boolean(const std::string& key, bool fallback) const {
  known_.insert(key);
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  if (auto b = std::get_if<bool>(&it->second)) return *b;
  type_error(key, "true or false");
}

std::string Params::text(const std::string& key, const std::string& fallback) const {
  known_.insert(key);
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  if (auto s = std::get_if<std::string>(&it->second)) return *s;
  type_error(key, "a string");
}

void Params::require(bool ok, const std::string& key, const std::string& accepted) const {
  if (!ok) throw ConfigError(where(key) + " = " + to_string(key) + ": accepted: " + accepted);
}

void Params::reject_unknown(const std::string& owner) const {
  std::vector<std::string> unknown;
  for (const auto& kv : values_)
    if (!known_.count(kv.first)) unknown.push_back(kv.first);
  if (unknown.empty()) return;
  std::ostringstream msg;
  msg << where(unknown.front()) << ": unknown parameter for " << owner << "; accepted: ";
  if (known_.empty()) msg << "(none)";
  bool first = true;
  for (const auto& k : known_) {
    msg << (first ? "" : ", ") << k;
    first = false;
  }
  if (unknown.size() > 1) {
    msg << " (also unknown:";
    for (size_t i = 1; i < unknown.size(); ++i) msg << " " << unknown[i];
    msg << ")";
  }
  throw ConfigError(msg.str());
}

std::string Params::to_string(const std::string& key) const {
  const ParamValue& v = value(key);
  std::ostringstream s;
  if (auto b = std::get_if<bool>(&v)) s << (*b ? "true" : "false");
  else if (auto i = std::get_if<int64_t>(&v)) s << *i;
  else if (auto d = std::get_if<double>(&v)) {
    s.precision(17);
    s << *d;
    if (std::isfinite(*d) && std::floor(*d) == *d && s.str().find('e') == std::string::npos) s << ".0";
  } else s << '"' << std::get<std::string>(v) << '"';
  return s.str();
}

}  // namespace mqb
