// What the tensor-lab commands (observe, fakequant) share: the plugins and scheme of
// one quantization side, chosen by flags (--bit, --symmetric, ...) or by one side of a
// TOML config (--config FILE --side weight|activation); key=value parameters; --quant-type.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "cli_common.h"
#include "mqb/backend_preset.h"
#include "mqb/tensor_types.h"

namespace mqb::cli {

class LabSideOptions {
 public:
  // Adds the scheme flags, --config/--side, --quant-type and --plugin-dir to `opts`.
  void add_to(po::options_description& opts);
  // The side: from the config (plugin names, scheme, parameters) or from the flags
  // (scheme only; plugin names empty). Also collects the plugin search directories.
  QConfigSide resolve(const po::variables_map& vm, const std::string& usage_tail);
  const std::vector<std::filesystem::path>& plugin_dirs() const { return dirs_; }
  bool has_quant_type() const { return !quant_type_.empty(); }
  QuantType quant_type(const std::string& usage_tail) const;

 private:
  std::string config_file_, side_, quant_type_;
  int bit_ = 8, ch_axis_ = 0;
  std::vector<std::string> plugin_dir_flags_;
  std::vector<std::filesystem::path> dirs_;
};

// Adds each "key=value" of `items` to `params`, typed as TOML would (true/false,
// integer, real, otherwise text), located at `flag` in error messages.
void add_key_values(Params& params, const std::vector<std::string>& items, const std::string& flag,
                    const std::string& usage_tail);

}  // namespace mqb::cli
