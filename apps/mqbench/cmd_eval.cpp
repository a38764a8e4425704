// `mqbench eval`: top-1 accuracy of a float or deployed TorchScript model, or of a
// prepared model, on Fashion-MNIST's test split or a user data folder.
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli_common.h"
#include "mqb/host/evaluate.h"
#include "mqb/host/reference_models.h"
#include "mqb/host/registry.h"

namespace mqb::cli {

namespace {
double prepared_accuracy(const std::string& file, const LabeledData& data, bool quiet) {
  Registry registry(SearchPath::standard());
  PreparedModel model = PreparedModel::load(file, registry);
  model.set_training(false);
  return prepared_top1(model, data, 1000, quiet);
}
}  // namespace

int cmd_eval(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description opts("options");
  std::string model, prepared, data_dir;
  opts.add_options()("model", po::value(&model), "a float or deployed TorchScript model")(
      "prepared", po::value(&prepared), "a prepared model state written by `mqbench prepare`")(
      "data", po::value(&data_dir), "a data folder (inputs.npy + labels.npy); default: Fashion-MNIST test split, normalised")(
      "quiet", "no progress lines")("json", "print JSON");
  po::variables_map vm;
  const std::string usage = "mqbench eval (--model M.pt | --prepared P) [--data DIR]";
  if (!parse_options(args, opts, {}, vm, usage, out)) return kOk;
  if (model.empty() == prepared.empty()) throw UsageError("give exactly one of --model and --prepared\nusage: " + usage);
  const LabeledData data = load_workflow_data(data_dir, /*with_train=*/false).eval;
  if (!data.labels.defined()) throw DataError(data_dir + ": evaluation needs labels.npy beside inputs.npy");
  const bool quiet = vm.count("quiet") > 0;
  const double acc = model.empty() ? prepared_accuracy(prepared, data, quiet) : evaluate_torchscript(model, data, 1000, quiet);
  if (vm.count("json"))
    out << nlohmann::json{{"model", model.empty() ? prepared : model}, {"images", data.size()}, {"top1", acc}}.dump(2)
        << "\n";
  else
    out << "top-1 " << acc << " % on " << data.size() << " images\n";
  return kOk;
}

}  // namespace mqb::cli
