// `mqbench qat`: quantization-aware training with the learnable quantizers.
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli_common.h"
#include "mqb/host/qat.h"
#include "mqb/host/reference_models.h"
#include "mqb/host/registry.h"

namespace fs = std::filesystem;

namespace mqb::cli {

int cmd_qat(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description opts("options");
  std::string config, model, data_dir, out_dir;
  QatOptions o;
  opts.add_options()("config", po::value(&config)->required(), "the TOML config")(
      "model", po::value(&model), "TorchScript model (default: the cached reference small_cnn)")(
      "data", po::value(&data_dir), "data folder for training and evaluation (default: Fashion-MNIST)")(
      "epochs", po::value(&o.epochs)->default_value(o.epochs), "training epochs")(
      "lr", po::value(&o.lr)->default_value(o.lr), "peak learning rate (SGD, momentum 0.9, cosine decay)")(
      "batch-size", po::value(&o.batch_size)->default_value(o.batch_size), "images per step")(
      "calib-batches", po::value(&o.calib_batches)->default_value(o.calib_batches), "calibration batches first")(
      "freeze-bn-epoch", po::value(&o.freeze_bn_epoch)->default_value(o.freeze_bn_epoch),
      "freeze BatchNorm statistics from this epoch (0-based; -1 never)")(
      "limit", po::value(&o.train_limit)->default_value(0), "train on the first N samples only (0: all)")(
      "seed", po::value(&o.seed)->default_value(o.seed), "shuffling seed")(
      "resume", "continue from <out>/checkpoint.mqb (same --epochs as the first run)")(
      "stop-after", po::value(&o.stop_after_epoch)->default_value(0),
      "stop after this many epochs of the schedule; continue later with --resume")("out", po::value(&out_dir)->required(), "output folder")(
      "quiet", "no progress lines")("json", "print JSON");
  po::variables_map vm;
  const std::string usage = "mqbench qat --config C.toml [--model M.pt] [--epochs E] [--resume] --out DIR";
  if (!parse_options(args, opts, {}, vm, usage, out)) return kOk;
  o.quiet = vm.count("quiet") > 0;
  o.resume = vm.count("resume") > 0;
  model = model_or_reference(model);
  const WorkflowData data = load_workflow_data(data_dir);
  const LabeledData& train = data.train;
  const LabeledData& eval = data.eval;
  Registry registry(SearchPath::standard());
  const QatResult r = run_qat(model, config, train, eval, out_dir, registry, o);
  if (vm.count("json")) {
    nlohmann::json j = {{"backend", r.backend}, {"float_top1", r.float_top1}, {"calibrated_top1", r.calibrated_top1},
                        {"final_top1", r.final_top1()}, {"out", out_dir}};
    out << j.dump(2) << "\n";
    return kOk;
  }
  out << std::fixed << std::setprecision(2) << "QAT " << fs::path(config).stem().string() << " (" << r.backend
      << "): FP32 " << r.float_top1 << " %, calibrated " << r.calibrated_top1 << " %";
  for (const auto& e : r.epochs) out << ", epoch " << e.epoch << " " << e.top1 << " %";
  out << "\nartefacts in " << out_dir << " (report.json, prepared.mqb, checkpoint.mqb)\n";
  return kOk;
}

}  // namespace mqb::cli
