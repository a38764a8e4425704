// The plugin boundary. Each plugin library exports exactly one symbol,
// `mqb_plugin_v1`, a noexcept function returning a descriptor. The host reads the
// descriptor's first field (abi_version) before anything else and refuses a
// mismatch; it also compares the SDK, LibTorch and C++ ABI the plugin was built
// with, because plugins exchange at::Tensor and std::string with the host.
//
// The descriptor only grows: new members go at the end and descriptor_size tells
// the host which members a plugin has.
#pragma once
#include <cstdint>

#include "mqb/backend_preset.h"
#include "mqb/fake_quantize.h"
#include "mqb/observer.h"
#include "mqb/version.h"

#define MQB_PLUGIN_ENTRY_NAME "mqb_plugin_v1"
// Bumped whenever a type crossing the plugin boundary changes layout or gains a virtual
// function. 2: SiteRules gained bias_quantizer, pass_through_producers,
// supports_academic_mode. 3: DeployContext gained graph() (mqb/deploy_graph.h).
#define MQB_PLUGIN_ABI_VERSION 3u

extern "C" {
struct mqb_plugin_descriptor {
  uint32_t abi_version;      // MQB_PLUGIN_ABI_VERSION at build time; always first
  uint32_t descriptor_size;  // sizeof(mqb_plugin_descriptor) at build time
  const char* sdk_version;   // MQB_SDK_VERSION
  const char* torch_version; // "1.13.0"
  int32_t cxx11_abi;         // _GLIBCXX_USE_CXX11_ABI
  const char* kind;          // "observer" | "quantizer" | "backend"
  const char* name;          // the name users write in TOML
  const char* description;   // one line
  const char* plugin_version;
  // Exactly the factory of `kind` is set. Factories may throw mqb::Error.
  mqb::Observer* (*create_observer)(const mqb::ObserverArgs& args);
  mqb::FakeQuantize* (*create_quantizer)(const mqb::QuantizerArgs& args);
  mqb::BackendPreset* (*create_backend)(const mqb::Params& params);
};
typedef const mqb_plugin_descriptor* (*mqb_plugin_entry_fn)();
}

namespace mqb::detail {
#define MQB_STRINGIFY_(x) #x
#define MQB_STRINGIFY(x) MQB_STRINGIFY_(x)
inline constexpr const char kTorchVersion[] = MQB_STRINGIFY(TORCH_VERSION_MAJOR) "." MQB_STRINGIFY(
    TORCH_VERSION_MINOR) "." MQB_STRINGIFY(TORCH_VERSION_PATCH);

inline mqb_plugin_descriptor make_descriptor(const char* kind, const char* name,
                                             const char* description) {
  mqb_plugin_descriptor d{};
  d.abi_version = MQB_PLUGIN_ABI_VERSION;
  d.descriptor_size = sizeof(mqb_plugin_descriptor);
  d.sdk_version = MQB_SDK_VERSION;
  d.torch_version = kTorchVersion;
  d.cxx11_abi = _GLIBCXX_USE_CXX11_ABI;
  d.kind = kind;
  d.name = name;
  d.description = description;
  d.plugin_version = MQB_SDK_VERSION;
  return d;
}
}  // namespace mqb::detail

// The entry point. Built as a shared library it is the exported `mqb_plugin_v1`;
// with MQB_STATIC_PLUGIN defined the same source yields `mqb_static_plugin_<ID>()`,
// which a program links directly and hands to Registry::add_static().
#ifdef MQB_STATIC_PLUGIN
#define MQB_PLUGIN_ENTRY_(ID) const mqb_plugin_descriptor* mqb_static_plugin_##ID() noexcept
#else
#define MQB_PLUGIN_ENTRY_(ID) \
  extern "C" __attribute__((visibility("default"))) const mqb_plugin_descriptor* mqb_plugin_v1() noexcept
#endif

#define MQB_OBSERVER_PLUGIN(ID, DESCRIPTION, CLASS)                                   \
  MQB_PLUGIN_ENTRY_(ID) {                                                             \
    static const mqb_plugin_descriptor d = [] {                                       \
      auto x = mqb::detail::make_descriptor("observer", #ID, DESCRIPTION);            \
      x.create_observer = [](const mqb::ObserverArgs& a) -> mqb::Observer* {          \
        return new CLASS(a);                                                          \
      };                                                                              \
      return x;                                                                       \
    }();                                                                              \
    return &d;                                                                        \
  }

#define MQB_QUANTIZER_PLUGIN(ID, DESCRIPTION, CLASS)                                  \
  MQB_PLUGIN_ENTRY_(ID) {                                                             \
    static const mqb_plugin_descriptor d = [] {                                       \
      auto x = mqb::detail::make_descriptor("quantizer", #ID, DESCRIPTION);           \
      x.create_quantizer = [](const mqb::QuantizerArgs& a) -> mqb::FakeQuantize* {    \
        return new CLASS(a);                                                          \
      };                                                                              \
      return x;                                                                       \
    }();                                                                              \
    return &d;                                                                        \
  }

#define MQB_BACKEND_PLUGIN(ID, DESCRIPTION, CLASS)                                    \
  MQB_PLUGIN_ENTRY_(ID) {                                                             \
    static const mqb_plugin_descriptor d = [] {                                       \
      auto x = mqb::detail::make_descriptor("backend", #ID, DESCRIPTION);             \
      x.create_backend = [](const mqb::Params& p) -> mqb::BackendPreset* {            \
        return new CLASS(p);                                                          \
      };                                                                              \
      return x;                                                                       \
    }();                                                                              \
    return &d;                                                                        \
  }
