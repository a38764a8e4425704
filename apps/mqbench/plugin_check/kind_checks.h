// The generic checks of each plugin kind (one file each), run on a plugin the
// registry has already loaded and accepted.
#pragma once
#include <string>

#include <ATen/ops/empty.h>

#include "check_recorder.h"
#include "mqb/host/registry.h"

namespace mqb::check {

void check_observer(Registry& registry, const std::string& name, const PluginCheckOptions& options, Recorder& rec);
void check_quantizer(Registry& registry, const std::string& name, const PluginCheckOptions& options, Recorder& rec);
void check_backend(Registry& registry, const std::string& name, const PluginCheckOptions& options, Recorder& rec);

// Creating the plugin with an extra, unknown parameter must fail with mqb::Error naming it.
template <class Create>
void check_rejects_unknown_parameter(Recorder& rec, const Params& base, Create&& create) {
  rec.run("params.rejects_unknown_key", [&]() -> std::string {
    Params junk = base;
    junk.set("mqb_check_no_such_key", int64_t{1});
    try {
      create(junk);
    } catch (const Error& e) {
      expect(std::string(e.what()).find("mqb_check_no_such_key") != std::string::npos,
             std::string("refused, but the message does not name the key: ") + e.what());
      return "refused with: " + std::string(e.what()).substr(0, 160);
    }
    throw CheckFailed("an unknown parameter 'mqb_check_no_such_key' was accepted silently "
                      "(call params.reject_unknown(\"<Name>\") after reading your keys)");
  });
}

// load_state() must refuse a state with a key the plugin does not know (the interface's
// contract: unknown or missing keys are a DataError). `target` is the observer or quantizer.
template <class Plugin>
void expect_unknown_state_key_refused(Plugin& target, StateDict state) {
  state["mqb_check_no_such_key"] = at::empty({1});
  try {
    target.load_state(state);
  } catch (const Error&) {
    return;
  }
  throw CheckFailed("load_state accepted a state with an unknown key 'mqb_check_no_such_key'");
}

// Probes one scheme (`probe` creates and calibrates): a plugin may refuse a scheme
// with mqb::Error (TQT: symmetric per-tensor only); the scheme's checks are then
// skipped. Returns whether to run them.
template <class Probe>
bool scheme_supported(Recorder& rec, const std::string& scheme_name, const QScheme& scheme, Probe&& probe) {
  bool ok = true;
  rec.run(scheme_name + ".supported", [&]() -> std::string {
    try {
      probe();
    } catch (const Error& e) {
      ok = false;
      skip("refused: " + std::string(e.what()).substr(0, 200));
    }
    return scheme.describe();
  });
  return ok;
}

inline void require_some_scheme(Recorder& rec, int supported) {
  rec.run("schemes", [&]() -> std::string {
    expect(supported > 0, "the plugin refuses every checked scheme (8-bit affine per-tensor, symmetric "
                          "per-tensor, symmetric per-channel)");
    return std::to_string(supported) + " of 3 schemes supported";
  });
}

}  // namespace mqb::check
