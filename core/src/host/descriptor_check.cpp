// The host's checks on a plugin descriptor, in order: ABI version first (nothing
// else in the descriptor may be read before it is known), then size, SDK, LibTorch,
// C++ ABI, kind and name.
#include <cstring>

#include "mqb/host/registry.h"

namespace mqb {

namespace {
std::string major_minor(const std::string& v) {
  auto first = v.find('.');
  auto second = first == std::string::npos ? first : v.find('.', first + 1);
  return v.substr(0, second);
}
std::string safe(const char* s) { return s ? s : "(null)"; }
}  // namespace

std::optional<std::string> check_descriptor(const mqb_plugin_descriptor* d,
                                            std::optional<PluginKind> kind, const std::string& name) {
  if (d->abi_version != MQB_PLUGIN_ABI_VERSION)
    return "wrong plugin ABI version: expected " + std::to_string(MQB_PLUGIN_ABI_VERSION) + ", found " +
           std::to_string(d->abi_version) + " (rebuild the plugin against this SDK)";
  if (d->descriptor_size < sizeof(mqb_plugin_descriptor))
    return "descriptor too small: expected at least " + std::to_string(sizeof(mqb_plugin_descriptor)) +
           " bytes, found " + std::to_string(d->descriptor_size);
  if (major_minor(safe(d->sdk_version)) != major_minor(MQB_SDK_VERSION))
    return std::string("wrong SDK version: expected ") + MQB_SDK_VERSION + " (same major.minor), found " +
           safe(d->sdk_version);
  if (safe(d->torch_version) != detail::kTorchVersion)
    return std::string("built against LibTorch ") + safe(d->torch_version) + ", this host uses " +
           detail::kTorchVersion + " (plugins exchange at::Tensor: versions must match)";
  if (d->cxx11_abi != _GLIBCXX_USE_CXX11_ABI)
    return "built with _GLIBCXX_USE_CXX11_ABI=" + std::to_string(d->cxx11_abi) + ", this host uses " +
           std::to_string(_GLIBCXX_USE_CXX11_ABI);
  auto found_kind = parse_plugin_kind(safe(d->kind));
  if (!found_kind)
    return "unknown plugin kind '" + safe(d->kind) + "' (accepted: observer, quantizer, backend)";
  if (kind && *found_kind != *kind)
    return std::string("wrong kind: expected ") + to_string(*kind) + ", found " + safe(d->kind);
  const bool has_factory = (*found_kind == PluginKind::Observer && d->create_observer) ||
                           (*found_kind == PluginKind::Quantizer && d->create_quantizer) ||
                           (*found_kind == PluginKind::Backend && d->create_backend);
  if (!has_factory) return std::string("descriptor of kind ") + safe(d->kind) + " has no factory";
  if (!d->name || !*d->name) return "descriptor has no name";
  if (!name.empty() && name != d->name)
    return "wrong name: expected '" + name + "', found '" + safe(d->name) + "'";
  return std::nullopt;
}

}  // namespace mqb
