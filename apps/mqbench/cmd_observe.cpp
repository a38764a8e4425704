// `mqbench observe`: the tensor lab for observers. Creates an observer plugin by name
// (qscheme from flags, or one side of a TOML config), feeds it the input files in
// order as calibration batches and prints its state and (scale, zero_point) as JSON.
#include <cmath>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli_common.h"
#include "json_out.h"
#include "mqb/host/config.h"
#include "mqb/host/registry.h"
#include "mqb/host/tensor_io.h"
#include "tensor_lab.h"

namespace mqb::cli {

namespace {

const char* kObserveUsage =
    "mqbench observe --observer NAME [--bit N] [--symmetric|--asymmetric] [--per-channel [--ch-axis A]]\n"
    "                [--pot] [--symmetric-range] [--quant-type input|param|tensor] [--param key=value ...]\n"
    "                --input a.npy [b.npy ...] [--out FILE]\n"
    "       mqbench observe --config FILE --side weight|activation [--observer NAME] --input ... [--out FILE]";

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

}  // namespace

int cmd_observe(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description opts("options");
  std::string observer, out_file;
  std::vector<std::string> inputs, params;
  LabSideOptions lab;
  opts.add_options()("observer", po::value(&observer), "observer plugin name, e.g. MSEObserver")(
      "param", po::value(&params)->composing(), "observer hyper-parameter key=value (repeatable)")(
      "input", po::value(&inputs)->multitoken()->composing(), "tensor files (.npy or torch.save), in order")(
      "out", po::value(&out_file), "also write the JSON to this file (atomically)");
  lab.add_to(opts);
  po::positional_options_description pos;
  pos.add("input", -1);
  po::variables_map vm;
  if (!parse_options(args, opts, pos, vm, kObserveUsage, out)) return kOk;

  const std::string usage_tail = std::string("\nusage: ") + kObserveUsage;
  if (inputs.empty()) throw UsageError("no --input tensor files given" + usage_tail);
  const QConfigSide side = lab.resolve(vm, usage_tail);
  const std::string observer_name = observer.empty() ? side.observer : observer;
  if (observer_name.empty()) throw UsageError("--observer NAME is required (or --config with --side)" + usage_tail);
  Params observer_params = side.observer_args;
  add_key_values(observer_params, params, "--param", usage_tail);

  Registry registry(SearchPath::standard(lab.plugin_dirs()));
  std::shared_ptr<Observer> obs = registry.create_observer(observer_name, ObserverArgs{side.qscheme, observer_params});
  if (lab.has_quant_type()) obs->set_quant_type(lab.quant_type(usage_tail));

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
