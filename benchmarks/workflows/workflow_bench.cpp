// The main job's workflows against their float baselines, in the same run, one thread:
//   PtqRun      a whole `run_ptq` (prepare, calibration, quantized evaluation, per-site
//               SQNR, prepared state + deployed TorchScript + report written) against the
//               float evaluation of the same model on the same images: ptq_vs_float_eval.
//   QatSteps    one QAT epoch of SGD steps (W4A4 LSQ, BatchNorm kept, as `mqbench qat`)
//               against a float training epoch of the same model, same images, same order,
//               same loop (train_epoch): qat_vs_float_step (target <= 1.5).
// Argument 0: small_cnn, 1: resnet_mini (the reference models, weights from a short
// training run: speed does not depend on them). Data: Fashion-MNIST.
#include <ATen/Parallel.h>
#include <ATen/ops/arange.h>
#include <benchmark/benchmark.h>
#include <torch/csrc/jit/serialization/import.h>

#include <filesystem>
#include <unistd.h>

#include "../thread_cpu_time.h"
#include "mqb/host/prepare.h"
#include "mqb/host/ptq.h"
#include "mqb/host/reference_models.h"
#include "mqb/host/sgd.h"

namespace fs = std::filesystem;
using mqb::bench::median;
using mqb::bench::thread_cpu_seconds;

namespace {

constexpr int64_t kEvalImages = 2000;
constexpr int64_t kTrainImages = 1024;  // 8 steps of 128
constexpr int64_t kTrainBatch = 128;

const std::string kModels[] = {"small_cnn", "resnet_mini"};

fs::path scratch() {
  static const fs::path d = [] {
    fs::path p = fs::temp_directory_path() / ("mqb_workflow_bench_" + std::to_string(::getpid()));
    fs::create_directories(p);
    return p;
  }();
  return d;
}

// The cached reference model when `mqbench train` made one, else a short training run.
std::string model_file(const std::string& name) {
  const fs::path cached = mqb::reference_model_path(name);
  if (fs::exists(cached)) return cached.string();
  const fs::path f = scratch() / (name + ".pt");
  if (!fs::exists(f)) {
    mqb::TrainOptions o;
    o.model = name;
    o.train_limit = 512;
    o.quiet = true;
    mqb::train_reference_model(o, f);
  }
  return f.string();
}

const mqb::WorkflowData& data() {
  static const mqb::WorkflowData d = [] {
    mqb::WorkflowData w = mqb::load_workflow_data();
    w.eval = {w.eval.inputs.narrow(0, 0, kEvalImages), w.eval.labels.narrow(0, 0, kEvalImages)};
    return w;
  }();
  return d;
}

mqb::Registry& registry() {
  static mqb::Registry r(mqb::SearchPath::standard());
  return r;
}

void BM_PtqRun(benchmark::State& state) {
  at::set_num_threads(1);
  const std::string model = model_file(kModels[state.range(0)]);
  const std::string config = std::string(MQB_SOURCE_DIR) + "/configs/tensorrt.toml";
  mqb::PtqOptions o;
  o.quiet = true;
  const fs::path out = scratch() / "ptq";
  double float_top1 = mqb::evaluate_torchscript(model, data().eval);  // warm-up (loads, JIT profiling)
  mqb::run_ptq(model, config, data().train, data().eval, out, registry(), o, float_top1);
  std::vector<double> tf, tp;
  for (auto _ : state) {
    tf.push_back(thread_cpu_seconds([&] { float_top1 = mqb::evaluate_torchscript(model, data().eval); }));
    tp.push_back(thread_cpu_seconds(
        [&] { mqb::run_ptq(model, config, data().train, data().eval, out, registry(), o, float_top1); }));
  }
  const double f = median(tf), p = median(tp);
  state.counters["float_eval_s"] = f;
  state.counters["ptq_run_s"] = p;
  state.counters["ptq_vs_float_eval"] = p / f;
  state.SetLabel(kModels[state.range(0)] + ", Tensorrt, " + std::to_string(kEvalImages) + " images");
}
BENCHMARK(BM_PtqRun)->Arg(0)->Arg(1)->Iterations(3)->Unit(benchmark::kMillisecond);

// The parameters of a module with gradients on, as `mqbench train` trains them.
std::vector<at::Tensor> trainable(torch::jit::Module& m) {
  std::vector<at::Tensor> params;
  for (const auto& p : m.parameters()) {
    p.set_requires_grad(true);
    params.push_back(p);
  }
  return params;
}

void BM_QatSteps(benchmark::State& state) {
  at::set_num_threads(1);
  const std::string model = model_file(kModels[state.range(0)]);
  const mqb::LabeledData& train = data().train;
  const at::Tensor order = at::arange(kTrainImages, at::kLong);

  torch::jit::Module fmodel = torch::jit::load(model);
  fmodel.train();
  const std::vector<at::Tensor> fparams = trainable(fmodel);
  mqb::Sgd fsgd(fparams, std::vector<bool>(fparams.size(), true), 0.9, 5e-4);

  // As run_qat: BatchNorm kept, calibrated, then fake quantization on in training mode.
  mqb::PrepareOptions prep;
  prep.fold_bn = false;
  prep.warn_unsupported = false;
  const auto resolved = mqb::resolve_config(
      mqb::load_config(std::string(MQB_SOURCE_DIR) + "/configs/compare/w4a4_qat_lsq.toml"), registry());
  mqb::PreparedModel qmodel = mqb::prepare(model, resolved, registry(), prep);
  qmodel.set_mode(mqb::QuantMode::Calibrate);
  {
    at::NoGradGuard no_grad;
    qmodel.forward(train.inputs.narrow(0, 0, kTrainBatch));
  }
  qmodel.set_mode(mqb::QuantMode::Quantize);
  qmodel.set_training(true);
  std::vector<at::Tensor> qparams;
  std::vector<bool> decay;
  for (const auto& p : qmodel.parameters()) {
    qparams.push_back(p.second);
    decay.push_back(p.first.rfind("model.", 0) == 0 && p.second.dim() > 1);
  }
  mqb::Sgd qsgd(qparams, decay, 0.9, 5e-4);

  const int64_t steps = kTrainImages / kTrainBatch;
  auto epoch = [&](mqb::Sgd& sgd, const mqb::BatchForward& forward) {
    int64_t step = 0;
    mqb::Progress quiet("", steps, "batch", true);
    mqb::train_epoch(train, order, kTrainBatch, sgd, 1e-3, step, steps, quiet, forward);
  };
  auto float_forward = [&](const at::Tensor& x) { return fmodel.forward({x}).toTensor(); };
  auto qat_forward = [&](const at::Tensor& x) { return qmodel.forward(x); };
  epoch(fsgd, float_forward);  // warm-up: the profiling executor optimizes after the first runs
  epoch(qsgd, qat_forward);
  std::vector<double> tf, tq;
  for (auto _ : state) {
    tf.push_back(thread_cpu_seconds([&] { epoch(fsgd, float_forward); }));
    tq.push_back(thread_cpu_seconds([&] { epoch(qsgd, qat_forward); }));
  }
  const double f = median(tf), q = median(tq);
  state.counters["float_step_ms"] = f / static_cast<double>(steps) * 1e3;
  state.counters["qat_step_ms"] = q / static_cast<double>(steps) * 1e3;
  state.counters["qat_vs_float_step"] = q / f;
  state.counters["sites"] = static_cast<double>(qmodel.sites().size());
  state.SetLabel(kModels[state.range(0)] + ", W4A4 LSQ, " + std::to_string(steps) + " steps of " +
                 std::to_string(kTrainBatch));
}
BENCHMARK(BM_QatSteps)->Arg(0)->Arg(1)->Iterations(5)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
