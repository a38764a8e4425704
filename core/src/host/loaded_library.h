// RAII owner of one opened plugin library. Never closed before process exit:
// objects a plugin created may outlive any registry, so the handle is leaked on
// purpose at destruction (libraries are never unloaded, DESIGN.md).
#pragma once
#include <boost/dll/shared_library.hpp>

#include <filesystem>
#include <memory>
#include <string>

#include "mqb/plugin.h"

namespace mqb {

class LoadedLibrary {
 public:
  // Opens `file`; throws PluginError with the dynamic loader's own reason.
  explicit LoadedLibrary(const std::filesystem::path& file);
  ~LoadedLibrary();
  // The descriptor, or a PluginError when the entry symbol is missing.
  const mqb_plugin_descriptor* descriptor() const;
  const std::string& file() const { return file_; }

 private:
  std::unique_ptr<boost::dll::shared_library> lib_;
  std::string file_;
};

}  // namespace mqb
