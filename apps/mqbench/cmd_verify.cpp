// `mqbench verify`: deployed ONNX in ONNX Runtime vs the deployed TorchScript here,
// per deploy folder: top-1 of each, agreement, largest output difference in steps.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli_common.h"
#include "mqb/host/reference_models.h"
#include "mqb/host/verify.h"

namespace mqb::cli {

namespace {

void print_row(const VerifyResult& r, bool json, nlohmann::json& rows, std::ostream& out) {
  if (json) {
    rows.push_back({{"dir", r.dir.string()}, {"backend", r.backend}, {"onnx", r.onnx}, {"form", r.form},
                    {"images", r.images}, {"torchscript_top1", r.sim_top1}, {"ort_top1", r.ort_top1},
                    {"agreement", r.agreement}, {"max_abs_diff", r.max_abs_diff}, {"step", r.step},
                    {"max_diff_steps", r.max_diff_steps}});
    return;
  }
  char line[640];
  std::snprintf(line, sizeof line, "%s | %s | %s | %lld | %.2f | %.2f | %.2f | %.3g | %.3g\n", r.dir.string().c_str(),
                r.backend.c_str(), r.onnx.c_str(), static_cast<long long>(r.images), r.sim_top1, r.ort_top1,
                r.agreement, r.max_abs_diff, r.max_diff_steps);
  out << line;
}

}  // namespace

int cmd_verify(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description opts("options");
  std::string deployed, data_dir, script;
  int64_t limit = 0;
  VerifyOptions o;
  opts.add_options()("deployed", po::value(&deployed), "a deploy folder (deploy.json), or a folder of them")(
      "data", po::value(&data_dir), "a data folder (inputs.npy [+ labels.npy]); default: Fashion-MNIST test split")(
      "limit", po::value(&limit), "use only the first N images")(
      "ort-script", po::value(&script), "the ONNX Runtime client (default scripts/ort/run_onnx.js; MQB_ORT_SCRIPT)")(
      "ort-optimization", po::value(&o.ort_optimization)->default_value("all"),
      "ONNX Runtime graph optimization: all (fuses Q/DQ into integer kernels), extended, basic, disabled")(
      "json", "print JSON");
  po::variables_map vm;
  const std::string usage = "mqbench verify --deployed DIR [--data D] [--limit N] [--ort-optimization all|disabled]";
  if (!parse_options(args, opts, {}, vm, usage, out)) return kOk;
  if (deployed.empty()) throw UsageError("--deployed is required\nusage: " + usage);
  if (limit < 0) throw UsageError("--limit must be >= 0");
  const auto dirs = find_deploy_dirs(deployed);
  LabeledData data = load_workflow_data(data_dir, /*with_train=*/false).eval;
  if (limit > 0 && limit < data.size()) {
    data.inputs = data.inputs.slice(0, 0, limit);
    if (data.labels.defined()) data.labels = data.labels.slice(0, 0, limit);
  }
  o.ort_script = script;
  nlohmann::json rows = nlohmann::json::array();
  if (!vm.count("json"))
    out << "deploy folder | backend | ONNX model | images | TorchScript top-1 % | ORT top-1 % | agreement % | max |diff| | "
           "steps\n";
  // One folder that cannot run (NNIE has no QDQ model) does not hide the others; the
  // exit code says that something failed.
  int code = kOk;
  for (const auto& d : dirs) {
    std::vector<VerifyResult> results;
    try {
      results = verify_deployed(d, data, o);
    } catch (const Error& e) {
      if (dirs.size() == 1) throw;
      code = kFailure;
      if (vm.count("json")) rows.push_back({{"dir", d.string()}, {"error", e.what()}});
      else out << d.string() << " | error: " << e.what() << "\n";
      continue;
    }
    for (const VerifyResult& r : results) print_row(r, vm.count("json") > 0, rows, out);
  }
  if (vm.count("json")) out << rows.dump(2) << "\n";
  return code;
}

}  // namespace mqb::cli
