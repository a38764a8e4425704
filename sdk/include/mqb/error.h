// The one exception hierarchy of MQBench-CPP. Every message says what was wrong,
// where (file, line, key) and what would be accepted.
#pragma once
#include <stdexcept>
#include <string>

#define MQB_API __attribute__((visibility("default")))

namespace mqb {

class MQB_API Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  ~Error() override;
};

// Bad TOML, bad keys, contradictory schemes, bad plugin parameters.
class MQB_API ConfigError : public Error {
 public:
  using Error::Error;
  ~ConfigError() override;
};

// A plugin could not be found, loaded or accepted.
class MQB_API PluginError : public Error {
 public:
  using Error::Error;
  ~PluginError() override;
};

// A model file is unreadable or holds something we cannot prepare.
class MQB_API ModelError : public Error {
 public:
  using Error::Error;
  ~ModelError() override;
};

// Input tensors or data sets that are missing, corrupt or of the wrong shape.
class MQB_API DataError : public Error {
 public:
  using Error::Error;
  ~DataError() override;
};

}  // namespace mqb
