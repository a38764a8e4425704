// Quantization-aware training (see mqb/host/qat.h).
#include "mqb/host/qat.h"

#include <ATen/ops/randperm.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <chrono>
#include <optional>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mqb/host/evaluate.h"
#include "mqb/host/prepare.h"
#include "mqb/host/progress.h"
#include "mqb/host/reference_models.h"
#include "mqb/host/tensor_io.h"
#include "mqb/host/sgd.h"
#include "site_sqnr_json.h"

namespace fs = std::filesystem;

namespace mqb {

namespace {

// Optimizer state and progress: velocities plus the number of finished epochs.
void save_optimizer(const fs::path& file, const Sgd& sgd, int epochs_done, int64_t steps) {
  c10::impl::GenericList list(c10::TensorType::get());
  for (const auto& v : sgd.velocity()) list.push_back(v);
  c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
  d.insert("velocity", list);
  d.insert("epochs_done", static_cast<int64_t>(epochs_done));
  d.insert("steps", steps);
  const std::vector<char> bytes = torch::jit::pickle_save(c10::IValue(d));
  write_text_file(file, std::string(bytes.begin(), bytes.end()));
}

std::pair<int, int64_t> load_optimizer(const fs::path& file, Sgd& sgd) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw DataError(file.string() + ": missing (cannot --resume without it)");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), {});
  try {
    auto d = torch::jit::pickle_load(bytes).toGenericDict();
    std::vector<at::Tensor> v;
    for (const auto& t : d.at("velocity").toList()) v.push_back(t.get().toTensor());
    sgd.set_velocity(v);
    return {static_cast<int>(d.at("epochs_done").toInt()), d.at("steps").toInt()};
  } catch (const c10::Error& e) {
    throw DataError(file.string() + ": not an optimizer state written by `mqbench qat`");
  }
}

// Model in training mode except BatchNorm once frozen; quantizers always in training mode.
void set_train_mode(PreparedModel& model, bool freeze_bn) {
  model.set_training(!freeze_bn);
  if (freeze_bn)
    for (const auto& name : model.site_names()) model.quantizer(name).set_training(true);
}

}  // namespace

QatResult run_qat(const fs::path& model_file, const fs::path& config_file, const LabeledData& train,
                  const LabeledData& eval, const fs::path& out, Registry& caller_registry, const QatOptions& o) {
  if (o.epochs < 1) throw ConfigError("QAT needs at least one epoch");
  if (!train.labels.defined() || !eval.labels.defined()) throw DataError("QAT needs labelled data");
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw DataError(out.string() + ": cannot create the output folder: " + ec.message());
  const Config cfg = load_config(config_file);
  if (cfg.advanced_ptq && cfg.advanced_ptq->enabled)
    throw ConfigError(cfg.advanced_ptq->where.describe() +
                      ": advanced_ptq: reconstruction is a PTQ step that `mqbench qat` does not run; "
                      "use `mqbench ptq`, or set enabled = false");
  // The config's plugin_dirs come first on the search path, as for prepare and config show.
  std::optional<Registry> own_registry;
  if (!cfg.plugin_dirs.empty()) own_registry.emplace(SearchPath::standard(cfg.plugin_dirs));
  Registry& registry = own_registry ? *own_registry : caller_registry;
  const ResolvedConfig resolved = resolve_config(cfg, registry);
  QatResult r;
  r.backend = resolved.backend;
  r.weight_desc = describe_side(resolved.qconfig.weight);
  r.activation_desc = describe_side(resolved.qconfig.activation);
  const fs::path checkpoint = out / "checkpoint.mqb", optimizer_file = out / "optimizer.pt";
  if (o.resume && !fs::exists(checkpoint)) throw DataError(checkpoint.string() + ": no checkpoint to resume from");
  r.float_top1 = evaluate_torchscript(model_file, eval, 1000, o.quiet);

  int first_epoch = 0;
  int64_t steps = 0;
  std::optional<PreparedModel> model;
  if (o.resume) {
    model.emplace(PreparedModel::load(checkpoint, registry));
  } else {
    // QAT keeps BatchNorm (MQBench's fused conv-bn QAT modules); PTQ folds it.
    PrepareOptions prep;
    prep.fold_bn = false;
    prep.warn_unsupported = !o.quiet;
    model.emplace(prepare(model_file, resolved, registry, prep));
    model->set_training(false);
    model->set_mode(QuantMode::Calibrate);
    const auto start = std::chrono::steady_clock::now();
    at::NoGradGuard no_grad;
    Progress progress("calibrate", o.calib_batches, "batch", o.quiet);
    for (int64_t b = 0; b < o.calib_batches && b * o.batch_size < train.size(); ++b) {
      model->forward(train.inputs.narrow(0, b * o.batch_size, std::min(o.batch_size, train.size() - b * o.batch_size)));
      progress.advance();
    }
    progress.finish();
    r.calibration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  model->set_mode(QuantMode::Quantize);
  model->set_training(false);
  r.calibrated_top1 = prepared_top1(*model, eval, 1000, o.quiet, "evaluate calibrated");

  const NamedTensors named = model->parameters();
  std::vector<at::Tensor> params;
  std::vector<bool> decay;
  for (const auto& p : named) {
    params.push_back(p.second);
    decay.push_back(p.first.rfind("model.", 0) == 0 && p.second.dim() > 1);  // weights, not biases/BN/scales
  }
  Sgd sgd(params, decay, 0.9, o.weight_decay);
  if (o.resume) std::tie(first_epoch, steps) = load_optimizer(optimizer_file, sgd);

  const int64_t n = o.train_limit > 0 ? std::min<int64_t>(o.train_limit, train.size()) : train.size();
  const int64_t steps_per_epoch = (n + o.batch_size - 1) / o.batch_size;
  const int64_t total = steps_per_epoch * o.epochs;
  const int last_epoch = o.stop_after_epoch > 0 ? std::min(o.epochs, o.stop_after_epoch) : o.epochs;
  for (int epoch = first_epoch; epoch < last_epoch; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    set_train_mode(*model, o.freeze_bn_epoch >= 0 && epoch >= o.freeze_bn_epoch);
    // The order of epoch e depends only on (seed, e), so a resumed run sees the same batches.
    auto gen = at::detail::createCPUGenerator(o.seed * 1000003 + static_cast<uint64_t>(epoch));
    at::Tensor order = at::randperm(n, gen, at::kLong);
    Progress progress("qat epoch " + std::to_string(epoch + 1) + "/" + std::to_string(o.epochs), steps_per_epoch,
                      "batch", o.quiet);
    const double loss = train_epoch(train, order, o.batch_size, sgd, o.lr, steps, total, progress,
                                    [&](const at::Tensor& x) { return model->forward(x); });
    model->set_training(false);
    QatEpoch e;
    e.epoch = epoch + 1;
    e.train_loss = loss;
    e.top1 = prepared_top1(*model, eval, 1000, o.quiet, "evaluate epoch " + std::to_string(epoch + 1));
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.epochs.push_back(e);
    model->save(checkpoint);
    save_optimizer(optimizer_file, sgd, epoch + 1, steps);
  }

  model->set_training(false);
  r.site_errors = model->error_report({{train.inputs.narrow(0, 0, std::min(o.batch_size, train.size()))}});
  model->save(out / "prepared.mqb");
  std::string deploy_note = "deployed.pt";
  try {
    model->deploy(out / "deployed.pt");
  } catch (const Error& e) {
    deploy_note = std::string("not written: ") + e.what();
  }
  nlohmann::json epochs = nlohmann::json::array();
  for (const auto& e : r.epochs)
    epochs.push_back({{"epoch", e.epoch}, {"train_loss", e.train_loss}, {"top1", e.top1}, {"seconds", e.seconds}});
  const nlohmann::json report = {{"model", model_file.string()},  {"config", config_file.string()},
                                 {"backend", r.backend},           {"float_top1", r.float_top1},
                                 {"calibrated_top1", r.calibrated_top1}, {"final_top1", r.final_top1()},
                                 {"epochs", epochs},               {"lr", o.lr},
                                 {"batch_size", o.batch_size},     {"seed", o.seed},
                                 {"freeze_bn_epoch", o.freeze_bn_epoch}, {"deployed", deploy_note},
                                 {"calibration_seconds", r.calibration_seconds},
                                 {"site_sqnr", site_sqnr_json(r.site_errors)}};
  write_text_file(out / "report.json", report.dump(2) + "\n");
  return r;
}

}  // namespace mqb
