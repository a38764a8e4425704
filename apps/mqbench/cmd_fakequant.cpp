// `mqbench fakequant`: the tensor lab for fake quantizers. Creates a quantizer plugin
// (and its observer) by name, qscheme from flags or one side of a TOML config; runs
// the calibration batches (observer on, fake quant off), then one forward with the
// observer off and fake quant on, and a backward with the given upstream gradient.
// Writes output.npy, grad_input.npy, grad_<param>.npy and summary.json into --out.
// Everything is computed before the first file is written, and each file is written
// atomically, so a failure never leaves a half-written result.
#include <ATen/core/grad_mode.h>
#include <ATen/ops/zeros_like.h>

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

const char* kFakeQuantUsage =
    "mqbench fakequant --quantizer NAME [--observer NAME] [--bit N] [--symmetric|--asymmetric]\n"
    "                  [--per-channel [--ch-axis A]] [--pot] [--symmetric-range] [--quant-type input|param|tensor]\n"
    "                  [--param key=value ...] [--observer-param key=value ...]\n"
    "                  --calib a.npy [b.npy ...] --input x.npy [--grad g.npy] --out DIR\n"
    "       mqbench fakequant --config FILE --side weight|activation [--quantizer NAME] [--observer NAME] ...";

std::string usage_tail() { return std::string("\nusage: ") + kFakeQuantUsage; }

// Shape, dtype and (for small tensors) the values, for summary.json.
nlohmann::json describe(const at::Tensor& t) {
  nlohmann::json j{{"shape", t.sizes().vec()}, {"dtype", std::string(c10::toString(t.scalar_type()))}};
  if (t.numel() > 64) return j;
  const at::Tensor v = t.detach().to(at::kDouble).contiguous().reshape({-1});
  nlohmann::json values = nlohmann::json::array();
  for (int64_t i = 0; i < v.numel(); ++i) {
    const double d = v.data_ptr<double>()[i];
    if (std::isfinite(d)) values.push_back(d);
    else values.push_back(std::isnan(d) ? "nan" : (d > 0 ? "inf" : "-inf"));
  }
  j["values"] = values;
  return j;
}

}  // namespace

int cmd_fakequant(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description opts("options");
  std::string quantizer, observer, input, grad, out_dir;
  std::vector<std::string> calib, params, observer_params;
  LabSideOptions lab;
  opts.add_options()("quantizer", po::value(&quantizer), "quantizer plugin name, e.g. LearnableFakeQuantize")(
      "observer", po::value(&observer), "observer plugin name (default MinMaxObserver, or the config's)")(
      "param", po::value(&params)->composing(), "quantizer parameter key=value (repeatable)")(
      "observer-param", po::value(&observer_params)->composing(), "observer hyper-parameter key=value (repeatable)")(
      "calib", po::value(&calib)->multitoken()->composing(), "calibration tensor files, in order")(
      "input", po::value(&input), "the tensor to fake-quantize (.npy or torch.save)")(
      "grad", po::value(&grad), "upstream gradient for the backward pass (same shape as --input)")(
      "out", po::value(&out_dir), "output directory");
  lab.add_to(opts);
  po::variables_map vm;
  if (!parse_options(args, opts, po::positional_options_description(), vm, kFakeQuantUsage, out)) return kOk;
  if (input.empty()) throw UsageError("--input x.npy is required" + usage_tail());
  if (out_dir.empty()) throw UsageError("--out DIR is required" + usage_tail());

  const QConfigSide side = lab.resolve(vm, usage_tail());
  const std::string quantizer_name = quantizer.empty() ? side.fake_quantize : quantizer;
  if (quantizer_name.empty()) throw UsageError("--quantizer NAME is required (or --config with --side)" + usage_tail());
  std::string observer_name = observer.empty() ? side.observer : observer;
  if (observer_name.empty()) observer_name = "MinMaxObserver";
  Params fq_params = side.fakeq_params, obs_params = side.observer_args;
  add_key_values(fq_params, params, "--param", usage_tail());
  add_key_values(obs_params, observer_params, "--observer-param", usage_tail());

  Registry registry(SearchPath::standard(lab.plugin_dirs()));
  std::shared_ptr<FakeQuantize> fq =
      registry.create_quantizer(quantizer_name, side.qscheme, fq_params, observer_name, obs_params);
  fq->set_training(true);
  if (lab.has_quant_type()) fq->set_quant_type(lab.quant_type(usage_tail()));

  // Calibration: observer on, fake quant off.
  nlohmann::json batches = nlohmann::json::array();
  fq->set_mode(QuantMode::Calibrate);
  for (const auto& file : calib) {
    const at::Tensor x = read_tensor(file);
    at::NoGradGuard no_grad;
    fq->forward(x);
    batches.push_back({{"file", file}, {"shape", x.sizes().vec()}});
  }

  // One quantized forward (and backward).
  fq->set_mode(QuantMode::Quantize);
  at::Tensor x = read_tensor(input);
  if (!x.is_floating_point()) x = x.to(at::kFloat);
  x = x.detach().clone().set_requires_grad(true);
  const at::Tensor y = fq->forward(x);
  std::vector<std::pair<std::string, at::Tensor>> files{{"output.npy", y.detach()}};
  nlohmann::json grads = nlohmann::json::object();
  if (!grad.empty()) {
    const at::Tensor g = read_tensor(grad);
    if (g.sizes() != y.sizes())
      throw DataError(grad + ": upstream gradient of shape " + c10::str(g.sizes()) + " does not match the output " +
                      c10::str(y.sizes()));
    if (y.requires_grad()) y.backward(g.to(y.scalar_type()));
    const at::Tensor gx = x.grad().defined() ? x.grad() : at::zeros_like(x);
    files.emplace_back("grad_input.npy", gx);
    grads["input"] = describe(gx);
    for (const auto& kv : fq->parameters()) {
      if (!kv.second.grad().defined()) continue;
      files.emplace_back("grad_" + kv.first + ".npy", kv.second.grad());
      grads[kv.first] = describe(kv.second.grad());
    }
  }

  nlohmann::json summary;
  summary["quantizer"] = quantizer_name;
  summary["observer"] = observer_name;
  summary["qscheme"] = to_json(fq->qscheme());
  summary["params"] = to_json(fq_params);
  summary["observer_params"] = to_json(obs_params);
  if (lab.has_quant_type()) summary["quant_type"] = to_string(lab.quant_type(usage_tail()));
  summary["calibration"] = batches;
  summary["input"] = {{"file", input}, {"shape", x.sizes().vec()}};
  summary["output_shape"] = y.sizes().vec();
  const QParams q = fq->qparams();
  summary["qparams"] = {{"scale", describe(q.scale)}, {"zero_point", describe(q.zero_point)}};
  nlohmann::json state = nlohmann::json::object();
  for (const auto& kv : fq->state()) state[kv.first] = describe(kv.second);
  summary["state"] = state;
  summary["gradients"] = grads;
  nlohmann::json written = nlohmann::json::array();
  for (const auto& f : files) written.push_back(f.first);
  summary["files"] = written;

  std::filesystem::create_directories(out_dir);
  for (const auto& f : files) write_npy(std::filesystem::path(out_dir) / f.first, f.second.contiguous());
  write_text_file(std::filesystem::path(out_dir) / "summary.json", summary.dump(2) + "\n");
  out << "fakequant: " << quantizer_name << " (" << observer_name << ", " << fq->qscheme().describe() << "), "
      << calib.size() << " calibration batch(es); wrote";
  for (const auto& f : files) out << " " << f.first;
  out << " summary.json to " << out_dir << "\n";
  return kOk;
}

}  // namespace mqb::cli
