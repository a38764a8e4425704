// Running the rows of a benchmark matrix (see bench_run.h).
#include "bench_run.h"

#include <ATen/ops/randperm.h>
#include <ATen/ops/index_select.h>
#include <ATen/core/grad_mode.h>

#include <chrono>
#include <ctime>
#include <map>

#include "json_out.h"
#include "mqb/host/progress.h"
#include "mqb/host/ptq.h"
#include "mqb/host/qat.h"
#include "mqb/host/reference_models.h"
#include "mqb/host/tensor_io.h"
#include "mqb/plugin.h"

namespace fs = std::filesystem;

namespace mqb::cli {

namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// A reference model name is trained on first use (as `mqbench train` would) and reused after.
std::string resolve_model(const std::string& model, bool quiet) {
  for (const auto& name : reference_model_names()) {
    if (model != name) continue;
    const fs::path path = reference_model_path(name);
    if (!fs::exists(path)) {
      std::error_code ec;
      fs::create_directories(path.parent_path(), ec);
      TrainOptions o;
      o.model = name;
      o.quiet = quiet;
      train_reference_model(o, path);
    }
    return path.string();
  }
  if (!fs::exists(model))
    throw DataError(model + ": no such model file (and not a reference model name: small_cnn, resnet_mini)");
  return model;
}

// Seed 0 keeps the data in its order (the first images calibrate, as in `mqbench ptq`);
// another seed draws a permutation, so calibration images and QAT subsets change with it.
LabeledData shuffled(const LabeledData& d, uint64_t seed) {
  if (seed == 0) return d;
  auto gen = at::detail::createCPUGenerator(seed);
  const at::Tensor order = at::randperm(d.size(), gen, at::kLong);
  return {d.inputs.index_select(0, order), d.labels.defined() ? d.labels.index_select(0, order) : at::Tensor()};
}

nlohmann::json versions_of(const ResolvedConfig& r, Registry& registry) {
  nlohmann::json plugins = nlohmann::json::object();
  auto add = [&](PluginKind kind, const std::string& name) {
    if (!name.empty() && !plugins.contains(name)) plugins[name] = registry.info(kind, name).version;
  };
  add(PluginKind::Backend, r.backend);
  for (const QConfigSide* s : {&r.qconfig.weight, &r.qconfig.activation}) {
    add(PluginKind::Observer, s->observer);
    add(PluginKind::Quantizer, s->fake_quantize);
  }
  return {{"mqbench", MQB_SDK_VERSION},
          {"libtorch", std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
                           std::to_string(TORCH_VERSION_PATCH)},
          {"plugins", plugins}};
}

// Invalid combinations are found before any work: the config resolves and each plugin
// accepts its parameters.
ResolvedConfig resolve_and_validate(const Config& config, Registry& registry) {
  ResolvedConfig resolved = resolve_config(config, registry);
  validate_plugin_params(resolved, registry);
  return resolved;
}

void run_row(BenchRow& row, const BenchMatrix& m, const BenchRun& run, const LabeledData& train,
             const LabeledData& eval, const fs::path& dir, Registry& registry, bool quiet) {
  const fs::path config = dir / "config.toml";
  write_text_file(config, row.spec.config_toml);
  ResolvedConfig resolved;
  try {
    resolved = resolve_and_validate(load_config(config), registry);
  } catch (const Error& e) {
    row.status = "skipped";
    row.reason = e.what();
    return;
  }
  row.resolved = to_json(resolved);
  row.versions = versions_of(resolved, registry);
  at::manual_seed(row.spec.seed);  // quantizers that draw random numbers (QDrop) repeat
  if (row.spec.mode == "ptq") {
    PtqOptions o;
    o.calib_batches = m.calib_batches;
    o.batch_size = m.batch_size;
    o.quiet = quiet;
    const PtqResult r = run_ptq(run.model, config, train, eval, dir, registry, o, run.float_top1);
    row.backend = r.backend;
    row.weight = r.weight_desc;
    row.activation = r.activation_desc;
    row.float_top1 = r.float_top1;
    row.top1 = row.calibrated_top1 = r.quant_top1;
    row.calibration_seconds = r.calibration_seconds;
    row.sites = r.sites;
    row.site_errors = r.site_errors;
  } else {
    QatOptions o;
    o.epochs = m.qat.epochs;
    o.lr = m.qat.lr;
    o.batch_size = m.qat.batch_size;
    o.train_limit = m.qat.train_images;
    o.freeze_bn_epoch = m.qat.freeze_bn_epoch;
    o.calib_batches = m.calib_batches;
    o.seed = row.spec.seed;
    o.quiet = quiet;
    const QatResult r = run_qat(run.model, config, train, eval, dir, registry, o);
    row.backend = r.backend;
    row.weight = r.weight_desc;
    row.activation = r.activation_desc;
    row.float_top1 = r.float_top1;
    row.top1 = r.final_top1();
    row.calibrated_top1 = r.calibrated_top1;
    row.calibration_seconds = r.calibration_seconds;
    row.sites = static_cast<int64_t>(r.site_errors.size());
    row.site_errors = r.site_errors;
  }
  row.status = "ok";
}

}  // namespace

std::string check_bench_row(const BenchRowSpec& row, Registry& registry) {
  if (!row.invalid.empty()) return row.invalid;
  try {
    resolve_and_validate(parse_config(row.config_toml, row.id + "/config.toml"), registry);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

int BenchRun::count(const std::string& status) const {
  int n = 0;
  for (const auto& r : rows) n += r.status == status;
  return n;
}

BenchRun run_bench(const BenchMatrix& m, const fs::path& out, Registry& registry, bool quiet) {
  BenchRun run;
  run.matrix = m;
  run.started = utc_now();
  const auto start = std::chrono::steady_clock::now();
  run.model = resolve_model(m.model, quiet);
  run.data = m.data;
  WorkflowData data = load_workflow_data(m.data == "fashion-mnist" ? fs::path() : fs::path(m.data));
  if (m.eval_images > 0 && m.eval_images < data.eval.size())
    data.eval = {data.eval.inputs.narrow(0, 0, m.eval_images),
                 data.eval.labels.defined() ? data.eval.labels.narrow(0, 0, m.eval_images) : at::Tensor()};
  if (!data.eval.labels.defined()) throw DataError(m.data + ": the bench evaluates, so the data needs labels.npy");
  run.eval_images = data.eval.size();
  run.train_images = data.train.size();
  run.float_top1 = evaluate_torchscript(run.model, data.eval, 1000, quiet);

  std::map<uint64_t, LabeledData> train_by_seed;
  Progress progress("bench", static_cast<int64_t>(m.rows.size()), "row", quiet, /*line_per_step=*/true);
  for (const auto& spec : m.rows) {
    BenchRow row;
    row.spec = spec;
    const fs::path dir = out / "runs" / spec.id;
    row.out_dir = dir.string();
    const auto row_start = std::chrono::steady_clock::now();
    if (!spec.invalid.empty()) {
      row.reason = spec.invalid;
    } else {
      std::error_code ec;
      fs::create_directories(dir, ec);
      if (ec) throw DataError(dir.string() + ": cannot create the row's folder: " + ec.message());
      if (!train_by_seed.count(spec.seed)) train_by_seed[spec.seed] = shuffled(data.train, spec.seed);
      try {
        run_row(row, m, run, train_by_seed[spec.seed], data.eval, dir, registry, quiet);
      } catch (const std::exception& e) {
        // An error inside one row (a plugin refusing the model, a failing forward) must
        // not lose the rows already measured.
        row.status = "failed";
        row.reason = e.what();
      }
    }
    row.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - row_start).count();
    char note[256];
    if (row.status == "ok")
      std::snprintf(note, sizeof note, "%s: %.2f %% (FP32 %.2f)", spec.label.c_str(), row.top1, run.float_top1);
    else
      std::snprintf(note, sizeof note, "%s: %s", spec.label.c_str(), row.status.c_str());
    run.rows.push_back(std::move(row));
    progress.advance(1, note);  // the last row's line is printed by finish()
    if (run.rows.size() == m.rows.size()) progress.finish(note);
  }
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

}  // namespace mqb::cli
