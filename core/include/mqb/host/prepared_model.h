// PreparedModel: a TorchScript model with one quantization site per tensor the
// backend's rules selected (MQBench's prepare_by_platform result). All quantization
// state lives here and on the top-level module, never on submodules. The TorchScript
// machinery stays behind a pimpl so that this header is cheap to include.
#pragma once
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mqb/backend_preset.h"
#include "mqb/fake_quantize.h"

namespace mqb {

class Registry;

enum class SiteKind { Weight, Activation };
MQB_API const char* to_string(SiteKind kind);

// One quantization site: what it quantizes, where, and with which configuration.
struct SiteInfo {
  std::string name;  // e.g. "layer1.0.conv1.weight", "layer1.0.conv1.input", "fc.output"
  SiteKind kind = SiteKind::Activation;
  std::string op;      // op family of the consumer (input/weight sites) or producer (output sites)
  std::string reason;  // "weight", "input", "output", "network_input", "network_output"
  QConfigSide config;  // observer, quantizer, scheme (after 8-bit / unsigned / axis adjustments)
};

// One row of error_report(): local SQNR of the site (its input vs its fake-quantized output).
struct SiteError {
  std::string name;
  double sqnr_db = 0;  // +inf when the site reproduced its input exactly
  double signal = 0;   // sum x^2 over the data
  double noise = 0;    // sum (q(x) - x)^2
  int64_t elements = 0;
};

class MQB_API PreparedModel {
 public:
  PreparedModel(PreparedModel&&) noexcept;
  PreparedModel& operator=(PreparedModel&&) noexcept;
  ~PreparedModel();

  // Runs the prepared forward (the model's inputs are tensors; its output a tensor).
  at::Tensor forward(const std::vector<at::Tensor>& inputs);
  at::Tensor forward(const at::Tensor& input) { return forward(std::vector<at::Tensor>{input}); }
  // The same model without any site, for reference outputs (BN folded when the prepare did).
  at::Tensor float_forward(const std::vector<at::Tensor>& inputs);

  // Mode of every site at once (MQBench enable_calibration / enable_quantization / disable_all).
  void set_mode(QuantMode mode);
  // Mode of one site by name; throws ConfigError listing close names when unknown.
  void set_site_mode(const std::string& site, QuantMode mode);
  // train/eval of the TorchScript module and of every quantizer.
  void set_training(bool training);

  // Model parameters (requires_grad turned on) followed by the learnable quantizer
  // tensors, named "model.<path>" and "site.<site>.<name>".
  NamedTensors parameters();

  const std::vector<SiteInfo>& sites() const;
  // The backend plugin the model was prepared for.
  const std::string& backend() const;
  std::vector<std::string> site_names() const;
  FakeQuantize& quantizer(const std::string& site);
  QParams qparams(const std::string& site) const;
  // How many weight-site calls were served from the frozen-qparams cache (diagnostics).
  int64_t weight_cache_hits() const;
  // Ops found in the graph that no rule knows, left in float (also printed once as a warning).
  const std::vector<std::string>& unsupported_ops() const;

  // Local SQNR of every site on the given batches, in quantization mode (the mode is
  // restored afterwards).
  std::vector<SiteError> error_report(const std::vector<std::vector<at::Tensor>>& batches);

  // One file holding the prepared TorchScript, the site list and every site's state;
  // load() re-creates the quantizers through the registry. Bit-exact round trip.
  void save(const std::filesystem::path& file) const;
  static PreparedModel load(const std::filesystem::path& file, Registry& registry);

  // Plain TorchScript in which every site became aten::fake_quantize_per_tensor_affine /
  // aten::fake_quantize_per_channel_affine with the current qparams (disabled sites
  // vanish). Stock PyTorch loads it without this library.
  void deploy(const std::filesystem::path& file) const;

  // The TorchScript source of the prepared forward (for debugging and the CLI).
  std::string graph_text() const;

  struct Impl;
  explicit PreparedModel(std::unique_ptr<Impl> impl);
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mqb
