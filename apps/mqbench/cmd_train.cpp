// `mqbench train`: the reference models on Fashion-MNIST, cached for every later run.
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli_common.h"
#include "mqb/host/reference_models.h"

namespace mqb::cli {

int cmd_train(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description opts("options");
  TrainOptions o;
  std::string file;
  opts.add_options()("model", po::value(&o.model)->default_value(o.model), "small_cnn or resnet_mini")(
      "epochs", po::value(&o.epochs)->default_value(o.epochs), "training epochs")(
      "batch-size", po::value(&o.batch_size)->default_value(o.batch_size), "images per step")(
      "lr", po::value(&o.lr)->default_value(o.lr), "peak learning rate (SGD, momentum 0.9, cosine decay)")(
      "seed", po::value(&o.seed)->default_value(o.seed), "initialisation and shuffling seed")(
      "limit", po::value(&o.train_limit)->default_value(0), "train on the first N images only (0: all)")(
      "out", po::value(&file), "model file (default: <cache>/models/<model>.pt)")(
      "force", "train even when the model file exists")("quiet", "no progress lines")("json", "print JSON");
  po::variables_map vm;
  if (!parse_options(args, opts, {}, vm, "mqbench train [--model NAME] [--epochs E] [--out FILE] [--force]", out))
    return kOk;
  o.quiet = vm.count("quiet") > 0;
  const std::filesystem::path path = file.empty() ? reference_model_path(o.model) : std::filesystem::path(file);
  nlohmann::json j = {{"model", o.model}, {"file", path.string()}};
  if (std::filesystem::exists(path) && !vm.count("force")) {
    j["reused"] = true;
    if (vm.count("json")) out << j.dump(2) << "\n";
    else out << "reusing " << path.string() << " (--force trains again)\n";
    return kOk;
  }
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path().empty() ? "." : path.parent_path(), ec);
  const TrainResult r = train_reference_model(o, path);
  j.update({{"reused", false}, {"epochs", o.epochs}, {"seed", o.seed}, {"steps", r.steps},
            {"test_accuracy", r.test_accuracy}, {"seconds", r.seconds}});
  if (vm.count("json")) out << j.dump(2) << "\n";
  else
    out << "trained " << o.model << " for " << o.epochs << " epoch(s) in " << static_cast<int>(r.seconds)
        << " s: test top-1 " << r.test_accuracy << " %, written to " << path.string() << "\n";
  return kOk;
}

}  // namespace mqb::cli
