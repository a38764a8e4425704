// End-to-end post-training quantization (see mqb/host/ptq.h).
#include "mqb/host/ptq.h"

#include <chrono>
#include <optional>
#include <nlohmann/json.hpp>

#include "mqb/host/deploy.h"
#include "mqb/host/evaluate.h"
#include "mqb/host/prepare.h"
#include "mqb/host/progress.h"
#include "mqb/host/reference_models.h"
#include "mqb/host/registry.h"
#include "mqb/host/tensor_io.h"
#include "mqb/version.h"
#include "site_sqnr_json.h"

namespace fs = std::filesystem;

namespace mqb {

namespace {

nlohmann::json reconstruction_json(const std::optional<ReconstructionReport>& rep, const Config& cfg) {
  if (!rep) return nullptr;
  const AdvancedPtqConfig& a = *cfg.advanced_ptq;
  nlohmann::json units = nlohmann::json::array();
  for (const auto& u : rep->units)
    units.push_back({{"unit", u.unit.name}, {"kind", u.unit.kind}, {"weights", u.unit.weight_sites},
                     {"error_before", u.error_before}, {"error_after", u.error_after},
                     {"final_loss", u.final_loss}, {"iterations", u.iterations}, {"seconds", u.seconds}});
  return {{"method", rep->method}, {"pattern", a.pattern}, {"max_count", a.max_count}, {"lr", a.lr},
          {"scale_lr", a.scale_lr ? nlohmann::json(*a.scale_lr) : nlohmann::json(nullptr)},
          {"warm_up", a.warm_up}, {"weight", a.weight}, {"b_range", {a.b_start, a.b_end}}, {"prob", a.prob},
          {"seed", a.seed}, {"seconds", rep->seconds}, {"units", units}};
}

}  // namespace

PtqResult run_ptq(const fs::path& model_file, const fs::path& config_file, const LabeledData& calib,
                  const LabeledData& eval, const fs::path& out_dir, Registry& caller_registry, const PtqOptions& o,
                  double float_top1) {
  if (!eval.labels.defined()) throw DataError("PTQ evaluation data has no labels");
  if (calib.size() == 0) throw DataError("PTQ needs calibration data");
  PtqResult r;
  r.config_file = config_file.string();
  r.out_dir = out_dir;
  const Config cfg = load_config(config_file);
  // The config's plugin_dirs come first on the search path, as for prepare and config show.
  std::optional<Registry> own_registry;
  if (!cfg.plugin_dirs.empty()) own_registry.emplace(SearchPath::standard(cfg.plugin_dirs));
  Registry& registry = own_registry ? *own_registry : caller_registry;
  const ResolvedConfig resolved = resolve_config(cfg, registry);
  r.backend = resolved.backend;
  r.weight_desc = describe_side(resolved.qconfig.weight);
  r.activation_desc = describe_side(resolved.qconfig.activation);
  r.float_top1 = float_top1 >= 0 ? float_top1 : evaluate_torchscript(model_file, eval, o.eval_batch_size, o.quiet);

  PrepareOptions prep;
  prep.warn_unsupported = !o.quiet;
  PreparedModel model = prepare(model_file, resolved, registry, prep);
  r.sites = static_cast<int64_t>(model.sites().size());
  model.set_training(false);

  // Calibration: observers on, fake quantization off (MQBench's enable_calibration).
  model.set_mode(QuantMode::Calibrate);
  const int64_t n_batches = std::max<int64_t>(1, std::min(o.calib_batches, (calib.size() + o.batch_size - 1) / o.batch_size));
  const auto start = std::chrono::steady_clock::now();
  {
    at::NoGradGuard no_grad;
    Progress progress("calibrate " + resolved.backend, n_batches, "batch", o.quiet);
    for (int64_t b = 0; b < n_batches; ++b) {
      const int64_t first = b * o.batch_size;
      model.forward(calib.inputs.narrow(0, first, std::min(o.batch_size, calib.size() - first)));
      progress.advance();
    }
    progress.finish();
  }
  r.calibration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Reconstruction (AdaRound / BRECQ / QDrop) on the calibration batches, when asked.
  if (cfg.advanced_ptq && cfg.advanced_ptq->enabled) {
    std::vector<at::Tensor> batches;
    for (int64_t b = 0; b < n_batches; ++b) {
      const int64_t first = b * o.batch_size;
      batches.push_back(calib.inputs.narrow(0, first, std::min(o.batch_size, calib.size() - first)));
    }
    r.reconstruction = reconstruct(model, *cfg.advanced_ptq, std::move(batches), o.quiet);
  }

  // Evaluation with frozen qparams (MQBench's enable_quantization).
  model.set_mode(QuantMode::Quantize);
  r.quant_top1 = prepared_top1(model, eval, o.eval_batch_size, o.quiet, "evaluate " + resolved.backend);
  r.site_errors = model.error_report({{calib.inputs.narrow(0, 0, std::min(o.batch_size, calib.size()))}});

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw DataError(out_dir.string() + ": cannot create the output folder: " + ec.message());
  model.save(out_dir / "prepared.mqb");
  // Some quantizers have no aten form (NNIE's log-domain codes): the run still counts,
  // the report says why there is no deployed.pt.
  std::string deploy_note = "deployed.pt";
  try {
    model.deploy(out_dir / "deployed.pt");
  } catch (const Error& e) {
    deploy_note = std::string("not written: ") + e.what();
    if (!o.quiet) std::fprintf(stderr, "warning: %s: no TorchScript deploy: %s\n", r.backend.c_str(), e.what());
  }
  nlohmann::json deploy_folder = nullptr;
  if (o.deploy) {
    try {
      DeployOptions d;
      d.model_name = model_file.stem().string();
      d.input_shape = calib.inputs.sizes().vec();
      d.input_shape[0] = 1;
      deploy_folder = deploy_model(model, *registry.create_backend(resolved.backend), out_dir / "deploy", d).out_dir.string();
    } catch (const Error& e) {
      deploy_folder = std::string("not written: ") + e.what();
      if (!o.quiet) std::fprintf(stderr, "warning: %s: no deploy folder: %s\n", r.backend.c_str(), e.what());
    }
  }
  const nlohmann::json report = {
      {"model", model_file.string()},       {"config", config_file.string()},
      {"backend", r.backend},               {"weight", r.weight_desc},
      {"activation", r.activation_desc},    {"float_top1", r.float_top1},
      {"quant_top1", r.quant_top1},         {"delta_top1", r.quant_top1 - r.float_top1},
      {"sites", r.sites},                   {"calibration_batches", n_batches},
      {"batch_size", o.batch_size},         {"calibration_seconds", r.calibration_seconds},
      {"eval_images", eval.size()},         {"site_sqnr", site_sqnr_json(r.site_errors)},
      {"deployed", deploy_note},           {"deploy_folder", deploy_folder},
      {"reconstruction", reconstruction_json(r.reconstruction, cfg)},
      {"versions", {{"mqbench", MQB_SDK_VERSION}, {"torch", std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH)}}}};
  write_text_file(out_dir / "report.json", report.dump(2) + "\n");
  return r;
}

}  // namespace mqb
