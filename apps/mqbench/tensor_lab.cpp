// Shared options of the tensor-lab commands (see tensor_lab.h).
#include "tensor_lab.h"

#include "mqb/host/config.h"

namespace mqb::cli {

void LabSideOptions::add_to(po::options_description& opts) {
  opts.add_options()("bit", po::value(&bit_), "bit width 2..16 (default 8)")("symmetric", "symmetric scheme (default)")(
      "asymmetric", "asymmetric (affine) scheme")("per-channel", "one range per channel")(
      "ch-axis", po::value(&ch_axis_), "channel axis for --per-channel (default 0)")("pot", "power-of-two scales")(
      "symmetric-range", "restricted symmetric range [-2^(b-1)+1, 2^(b-1)-1]")(
      "quant-type", po::value(&quant_type_), "input, param or tensor (Vitis observers and quantizers)")(
      "config", po::value(&config_file_), "take plugins, qscheme and parameters from a TOML config")(
      "side", po::value(&side_), "with --config: weight or activation")(
      "plugin-dir", po::value(&plugin_dir_flags_)->composing(), "search this directory for plugins first");
}

QConfigSide LabSideOptions::resolve(const po::variables_map& vm, const std::string& usage_tail) {
  if (vm.count("symmetric") && vm.count("asymmetric"))
    throw UsageError("--symmetric and --asymmetric contradict each other" + usage_tail);
  dirs_.assign(plugin_dir_flags_.begin(), plugin_dir_flags_.end());
  if (!config_file_.empty()) {
    for (const char* flag : {"bit", "symmetric", "asymmetric", "per-channel", "ch-axis", "pot", "symmetric-range"})
      if (vm.count(flag))
        throw UsageError(std::string("--") + flag + " cannot be combined with --config (the config sets the qscheme)" +
                         usage_tail);
    if (side_ != "weight" && side_ != "activation")
      throw UsageError("--config needs --side weight or --side activation" + usage_tail);
    const Config cfg = load_config(config_file_);
    dirs_.insert(dirs_.end(), cfg.plugin_dirs.begin(), cfg.plugin_dirs.end());
    Registry resolver(SearchPath::standard(dirs_));
    const ResolvedConfig resolved = resolve_config(cfg, resolver);
    return side_ == "weight" ? resolved.qconfig.weight : resolved.qconfig.activation;
  }
  if (!side_.empty()) throw UsageError("--side needs --config" + usage_tail);
  if (vm.count("ch-axis") && !vm.count("per-channel")) throw UsageError("--ch-axis needs --per-channel" + usage_tail);
  QConfigSide side;
  QScheme& s = side.qscheme;
  s.bit = bit_;
  s.symmetric = !vm.count("asymmetric");
  s.per_channel = vm.count("per-channel") > 0;
  s.ch_axis = s.per_channel ? ch_axis_ : -1;
  s.pot_scale = vm.count("pot") > 0;
  s.symmetric_range = vm.count("symmetric-range") > 0;
  s.validate();
  return side;
}

QuantType LabSideOptions::quant_type(const std::string& usage_tail) const {
  if (quant_type_ == "input") return QuantType::Input;
  if (quant_type_ == "param") return QuantType::Param;
  if (quant_type_ == "tensor") return QuantType::Tensor;
  throw UsageError("--quant-type " + quant_type_ + ": accepted: input, param, tensor" + usage_tail);
}

void add_key_values(Params& params, const std::vector<std::string>& items, const std::string& flag,
                    const std::string& usage_tail) {
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError(flag + " " + item + ": expected key=value" + usage_tail);
    const std::string key = item.substr(0, eq), text = item.substr(eq + 1);
    const SourceLocation where{flag, 0, 0};
    if (text == "true" || text == "false") {
      params.set(key, text == "true", where);
      continue;
    }
    size_t used = 0;
    try {
      const long long i = std::stoll(text, &used);
      if (used == text.size()) {
        params.set(key, static_cast<int64_t>(i), where);
        continue;
      }
      const double d = std::stod(text, &used);
      if (used == text.size()) {
        params.set(key, d, where);
        continue;
      }
    } catch (const std::exception&) {
      // not a number: text
    }
    params.set(key, text, where);
  }
}

}  // namespace mqb::cli
