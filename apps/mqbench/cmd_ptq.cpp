// `mqbench ptq`: post-training quantization of a model under one or more configs,
// with a comparison table (one row per config) and the artefacts of each run.
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli_common.h"
#include "mqb/host/ptq.h"
#include "mqb/host/reference_models.h"
#include "mqb/host/registry.h"

namespace fs = std::filesystem;

namespace mqb::cli {

int cmd_ptq(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description opts("options");
  std::vector<std::string> configs;
  std::string model, data_dir, out_dir;
  PtqOptions o;
  opts.add_options()("config", po::value(&configs)->composing(), "a TOML config (repeatable: one row each)")(
      "model", po::value(&model), "TorchScript model (default: the cached reference small_cnn; `mqbench train`)")(
      "data", po::value(&data_dir), "data folder used for calibration and evaluation (default: Fashion-MNIST)")(
      "calib-batches", po::value(&o.calib_batches)->default_value(o.calib_batches), "calibration batches")(
      "batch-size", po::value(&o.batch_size)->default_value(o.batch_size), "calibration batch size")(
      "out", po::value(&out_dir)->required(), "output folder (one sub-folder per config)")(
      "deploy", "also write <out>/<config>/deploy/: QDQ ONNX, the backend's own files, deploy.json")(
      "quiet", "no progress lines")("json", "print JSON");
  po::variables_map vm;
  const std::string usage = "mqbench ptq --config C.toml [--config ...] [--model M.pt] [--data DIR] [--deploy] --out DIR";
  if (!parse_options(args, opts, {}, vm, usage, out)) return kOk;
  if (configs.empty()) throw UsageError("at least one --config is needed\nusage: " + usage);
  o.quiet = vm.count("quiet") > 0;
  o.deploy = vm.count("deploy") > 0;
  model = model_or_reference(model);
  const WorkflowData data = load_workflow_data(data_dir);
  const LabeledData& calib = data.train;
  const LabeledData& eval = data.eval;
  Registry registry(SearchPath::standard());
  const double float_top1 = evaluate_torchscript(model, eval, o.eval_batch_size, o.quiet);
  std::vector<PtqResult> rows;
  for (const auto& c : configs) {
    const fs::path dir = fs::path(out_dir) / fs::path(c).stem();
    rows.push_back(run_ptq(model, c, calib, eval, dir, registry, o, float_top1));
  }
  if (vm.count("json")) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& r : rows)
      j.push_back({{"config", r.config_file}, {"backend", r.backend}, {"float_top1", r.float_top1},
                   {"quant_top1", r.quant_top1}, {"sites", r.sites}, {"out", r.out_dir.string()},
                   {"reconstruction", r.reconstruction ? nlohmann::json(r.reconstruction->method) : nlohmann::json(nullptr)}});
    out << j.dump(2) << "\n";
    return kOk;
  }
  out << "model " << model << ", FP32 top-1 " << std::fixed << std::setprecision(2) << float_top1 << " %\n"
      << std::left << std::setw(24) << "config" << std::setw(14) << "backend" << std::right << std::setw(8) << "top-1"
      << std::setw(9) << "delta" << std::setw(7) << "sites" << "  weights / activations\n";
  for (const auto& r : rows)
    out << std::left << std::setw(24) << fs::path(r.config_file).stem().string() << std::setw(14) << r.backend
        << std::right << std::setw(8) << r.quant_top1 << std::setw(9) << std::showpos << (r.quant_top1 - r.float_top1)
        << std::noshowpos << std::setw(7) << r.sites << "  " << r.weight_desc << " / " << r.activation_desc
        << (r.reconstruction ? " + " + r.reconstruction->method : std::string()) << "\n";
  out << "artefacts (prepared.mqb, deployed.pt, report.json) in " << out_dir << "/<config>/\n";
  return kOk;
}

}  // namespace mqb::cli
