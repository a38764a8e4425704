// `mqbench deploy`: from a prepared model state, the deploy folder (deployed TorchScript,
// QDQ ONNX, the backend plugin's own files, deploy.json).
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "cli_common.h"
#include "mqb/host/deploy.h"
#include "mqb/host/registry.h"

namespace mqb::cli {

namespace {

std::vector<int64_t> parse_shape(const std::string& text) {
  std::vector<int64_t> shape;
  std::stringstream in(text);
  std::string part;
  while (std::getline(in, part, ',')) {
    try {
      size_t used = 0;
      const long long v = std::stoll(part, &used);
      if (used != part.size() || v <= 0) throw std::invalid_argument(part);
      shape.push_back(v);
    } catch (const std::exception&) {
      throw UsageError("--input-shape '" + text + "': expected positive integers separated by commas, e.g. 1,1,28,28");
    }
  }
  if (shape.empty()) throw UsageError("--input-shape is empty; e.g. 1,1,28,28");
  return shape;
}

}  // namespace

int cmd_deploy(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description opts("options");
  std::string prepared, out_dir, shape = "1,1,28,28", name = "model";
  opts.add_options()("prepared", po::value(&prepared), "a prepared model state (prepared.mqb)")(
      "out", po::value(&out_dir), "the deploy folder to write")(
      "input-shape", po::value(&shape), "shape of one input batch (default 1,1,28,28: Fashion-MNIST)")(
      "model-name", po::value(&name), "stem of the ONNX file names (default model)")("json", "print JSON");
  po::variables_map vm;
  const std::string usage = "mqbench deploy --prepared P.mqb --out DIR [--input-shape 1,1,28,28] [--model-name NAME]";
  if (!parse_options(args, opts, {}, vm, usage, out)) return kOk;
  if (prepared.empty() || out_dir.empty()) throw UsageError("--prepared and --out are required\nusage: " + usage);
  DeployOptions o;
  o.input_shape = parse_shape(shape);
  o.model_name = name;
  Registry registry(SearchPath::standard());
  PreparedModel model = PreparedModel::load(prepared, registry);
  model.set_training(false);
  auto backend = registry.create_backend(model.backend());
  const DeployResult r = deploy_model(model, *backend, out_dir, o);
  if (vm.count("json")) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : r.files) files.push_back(f.string());
    out << nlohmann::json{{"backend", model.backend()}, {"out", r.out_dir.string()}, {"files", files}}.dump(2) << "\n";
  } else {
    out << model.backend() << ": " << r.sites.size() << " sites deployed into " << r.out_dir.string() << "\n";
    for (const auto& f : r.files) out << "  " << f.filename().string() << "\n";
  }
  return kOk;
}

}  // namespace mqb::cli
