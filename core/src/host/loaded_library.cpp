// Opening plugin libraries with Boost.DLL (see loaded_library.h).
#include "loaded_library.h"

#include <dlfcn.h>

#include "mqb/error.h"

namespace mqb {

LoadedLibrary::LoadedLibrary(const std::filesystem::path& file) : file_(file.string()) {
  boost::dll::fs::error_code ec;
  lib_ = std::make_unique<boost::dll::shared_library>();
  lib_->load(file, ec, boost::dll::load_mode::rtld_lazy | boost::dll::load_mode::rtld_local);
  if (ec) {
    // Boost's error code only says "Bad file descriptor": the real reason is dlerror().
    const char* why = dlerror();
    throw PluginError(file_ + ": not a loadable shared library: " +
                      (why ? std::string(why) : ec.message()));
  }
}

LoadedLibrary::~LoadedLibrary() {
  // Keep the library mapped for the rest of the process (see header).
  (void)lib_.release();
}

const mqb_plugin_descriptor* LoadedLibrary::descriptor() const {
  if (!lib_->has(MQB_PLUGIN_ENTRY_NAME))
    throw PluginError(file_ + ": no entry symbol '" MQB_PLUGIN_ENTRY_NAME
                      "' (is it an MQBench-CPP plugin built with MQB_OBSERVER_PLUGIN / "
                      "MQB_QUANTIZER_PLUGIN / MQB_BACKEND_PLUGIN?)");
  auto entry = lib_->get<const mqb_plugin_descriptor*()>(MQB_PLUGIN_ENTRY_NAME);
  const mqb_plugin_descriptor* d = entry();
  if (!d) throw PluginError(file_ + ": entry symbol '" MQB_PLUGIN_ENTRY_NAME "' returned no descriptor");
  return d;
}

}  // namespace mqb
