// `mqbench observe`: the tensor lab for observers. Creates an observer plugin by name
// (qscheme from flags, or one side of a TOML config), feeds it the input files in
// order as calibration batches and prints its state and (scale, zero_point) as JSON.
#include <cmath>
#include <nlohmann/json.hpp>
#include <ostream>
#include <regex>

#include "cli_common.h"
#include "json_out.h"
#include "mqb/host/config.h"
#include "mqb/host/registry.h"
#include "mqb/host/tensor_io.h"

namespace mqb::cli {

namespace {

const char* kObserveUsage =
    "mqbench observe --observer NAME [--bit N] [--symmetric|--asymmetric] [--per-channel [--ch-axis A]]\n"
    "                [--pot] [--symmetric-range] [--quant-type input|param|tensor] [--param key=value ...]\n"
    "                --input a.npy [b.npy ...] [--out FILE]\n"
    "       mqbench observe --config FILE --side weight|activation [--observer NAME] --input ... [--out FILE]";

// "key=value" -> typed parameter: true/false, integer, real, otherwise text.
void add_param(Params& params, const std::string& item) {
  const auto eq = item.find('=');
  if (eq == std::string::npos || eq == 0)
    throw UsageError("--param " + item + ": expected key=value\nusage: " + std::string(kObserveUsage));
  const std::string key = item.substr(0, eq), text = item.substr(eq + 1);
  const SourceLocation where{"--param", 0, 0};
  static const std::regex integer(R"([+-]?[0-9]+)");
  static const std::regex real(R"([+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?inf|nan)");
  if (text == "true" || text == "false") params.set(key, text == "true", where);
  else if (std::regex_match(text, integer)) params.set(key, static_cast<int64_t>(std::stoll(text)), where);
  else if (std::regex_match(text, real)) params.set(key, std::stod(text), where);
  else params.set(key, text, where);
}

nlohmann::json number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

// {"shape", "dtype", "values"}: the conformance data's tensor record.
nlohmann::json tensor_json(const at::Tensor& t) {
  nlohmann::json j;
  j["shape"] = t.sizes().vec();
  const bool integral = at::isIntegralType(t.scalar_type(), /*includeBool=*/true);
  switch (t.scalar_type()) {  // numpy-style names, as in shared/conformance
    case at::kFloat: j["dtype"] = "float32"; break;
    case at::kDouble: j["dtype"] = "float64"; break;
    case at::kInt: j["dtype"] = "int32"; break;
    case at::kLong: j["dtype"] = "int64"; break;
    default: j["dtype"] = std::string(c10::toString(t.scalar_type()));
  }
  nlohmann::json values = nlohmann::json::array();
  const at::Tensor flat = t.detach().contiguous().reshape({-1});
  if (integral) {
    const at::Tensor v = flat.to(at::kLong);
    for (int64_t i = 0; i < v.numel(); ++i) values.push_back(v.data_ptr<int64_t>()[i]);
  } else {
    const at::Tensor v = flat.to(at::kDouble);
    for (int64_t i = 0; i < v.numel(); ++i) values.push_back(number(v.data_ptr<double>()[i]));
  }
  j["values"] = values;
  return j;
}

QuantType parse_quant_type(const std::string& t) {
  if (t == "input") return QuantType::Input;
  if (t == "param") return QuantType::Param;
  if (t == "tensor") return QuantType::Tensor;
  throw UsageError("--quant-type " + t + ": accepted: input, param, tensor\nusage: " + std::string(kObserveUsage));
}

}  // namespace

int cmd_observe(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description opts("options");
  std::string observer, config_file, side, quant_type, out_file;
  int bit = 8, ch_axis = 0;
  std::vector<std::string> inputs, params, plugin_dirs;
  opts.add_options()("observer", po::value(&observer), "observer plugin name, e.g. MSEObserver")(
      "bit", po::value(&bit), "bit width 2..16 (default 8)")("symmetric", "symmetric scheme (default)")(
      "asymmetric", "asymmetric (affine) scheme")("per-channel", "one range per channel")(
      "ch-axis", po::value(&ch_axis), "channel axis for --per-channel (default 0)")(
      "pot", "power-of-two scales")("symmetric-range", "restricted symmetric range [-2^(b-1)+1, 2^(b-1)-1]")(
      "quant-type", po::value(&quant_type), "input, param or tensor (Vitis observers)")(
      "param", po::value(&params)->composing(), "observer hyper-parameter key=value (repeatable)")(
      "config", po::value(&config_file), "take observer, qscheme and hyper-parameters from a TOML config")(
      "side", po::value(&side), "with --config: weight or activation")(
      "input", po::value(&inputs)->multitoken()->composing(), "tensor files (.npy or torch.save), in order")(
      "out", po::value(&out_file), "also write the JSON to this file (atomically)")(
      "plugin-dir", po::value(&plugin_dirs)->composing(), "search this directory for plugins first");
  po::positional_options_description pos;
  pos.add("input", -1);
  po::variables_map vm;
  if (!parse_options(args, opts, pos, vm, kObserveUsage, out)) return kOk;

  const std::string usage_tail = std::string("\nusage: ") + kObserveUsage;
  if (inputs.empty()) throw UsageError("no --input tensor files given" + usage_tail);
  if (vm.count("symmetric") && vm.count("asymmetric"))
    throw UsageError("--symmetric and --asymmetric contradict each other" + usage_tail);

  std::vector<std::filesystem::path> dirs(plugin_dirs.begin(), plugin_dirs.end());
  QScheme scheme;
  Params observer_params("observe");
  std::string observer_name = observer;
  if (!config_file.empty()) {
    for (const char* flag : {"bit", "symmetric", "asymmetric", "per-channel", "ch-axis", "pot", "symmetric-range"})
      if (vm.count(flag))
        throw UsageError(std::string("--") + flag + " cannot be combined with --config (the config sets the qscheme)" +
                         usage_tail);
    if (side != "weight" && side != "activation")
      throw UsageError("--config needs --side weight or --side activation" + usage_tail);
    const Config cfg = load_config(config_file);
    dirs.insert(dirs.end(), cfg.plugin_dirs.begin(), cfg.plugin_dirs.end());
    Registry resolver(SearchPath::standard(dirs));
    const ResolvedConfig resolved = resolve_config(cfg, resolver);
    const QConfigSide& qs = side == "weight" ? resolved.qconfig.weight : resolved.qconfig.activation;
    scheme = qs.qscheme;
    observer_params = qs.observer_args;
    if (observer_name.empty()) observer_name = qs.observer;
  } else {
    if (!side.empty()) throw UsageError("--side needs --config" + usage_tail);
    if (observer_name.empty()) throw UsageError("--observer NAME is required (or --config with --side)" + usage_tail);
    scheme.bit = bit;
    scheme.symmetric = !vm.count("asymmetric");
    scheme.per_channel = vm.count("per-channel") > 0;
    if (vm.count("ch-axis") && !scheme.per_channel) throw UsageError("--ch-axis needs --per-channel" + usage_tail);
    scheme.ch_axis = scheme.per_channel ? ch_axis : -1;
    scheme.pot_scale = vm.count("pot") > 0;
    scheme.symmetric_range = vm.count("symmetric-range") > 0;
    scheme.validate();
  }
  for (const auto& p : params) add_param(observer_params, p);

  Registry registry(SearchPath::standard(dirs));
  std::shared_ptr<Observer> obs = registry.create_observer(observer_name, ObserverArgs{scheme, observer_params});
  if (!quant_type.empty()) obs->set_quant_type(parse_quant_type(quant_type));

  nlohmann::json batches = nlohmann::json::array();
  for (const auto& file : inputs) {
    const at::Tensor x = read_tensor(file);
    obs->observe(x);
    batches.push_back({{"file", file}, {"shape", x.sizes().vec()}});
  }
  const QParams q = obs->calculate_qparams();

  nlohmann::json j;
  j["observer"] = observer_name;
  j["qscheme"] = to_json(obs->qscheme());
  j["params"] = to_json(observer_params);
  if (obs->quant_type() != QuantType::Unset) j["quant_type"] = to_string(obs->quant_type());
  j["batches"] = batches;
  nlohmann::json state = nlohmann::json::object();
  for (const auto& kv : obs->state()) state[kv.first] = tensor_json(kv.second);
  j["state"] = state;
  j["scale"] = tensor_json(q.scale);
  j["zero_point"] = tensor_json(q.zero_point);
  const std::string text = j.dump(2) + "\n";
  if (!out_file.empty()) write_text_file(out_file, text);
  out << text;
  return kOk;
}

}  // namespace mqb::cli
