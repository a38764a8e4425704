// ResNet-18 (torchvision, random weights, 1x3x224x224, one thread):
//   forward_ratios  float forward, calibration forward (observers on) and evaluation with
//                   frozen qparams (fake quant on, weights cached), timed alternately in
//                   the same run; counters calib_vs_float (target <= 1.3) and
//                   eval_vs_float (target <= 1.1).
//   prepare         load + fold BN + inline + site insertion + quantizer creation.
// Backend: Tensorrt defaults (LearnableFakeQuantize, MinMax weights, EMAMinMax
// activations, per-channel weights). Set MQB_BENCH_BACKEND to try another backend, or
// MQB_BENCH_CONFIG to a TOML file.
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/randn.h>
#include <benchmark/benchmark.h>
#include <torch/csrc/jit/serialization/import.h>

#include <cstdlib>
#include <filesystem>

#include "../thread_cpu_time.h"
#include "mqb/host/prepare.h"

namespace {

std::string resnet18() {
  const std::string path = std::string(MQB_PREPARE_MODELS_DIR) + "/resnet18_traced.pt";
  if (!std::filesystem::exists(path)) {
    const std::string cmd = "/usr/bin/python3 " + std::string(MQB_MAKE_MODELS) + " " +
                            MQB_PREPARE_MODELS_DIR + " resnet18_traced";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("cannot generate " + path);
  }
  return path;
}

std::string backend() {
  const char* b = std::getenv("MQB_BENCH_BACKEND");
  return b ? b : "Tensorrt";
}

mqb::Registry& registry() {
  static mqb::Registry r(mqb::SearchPath::standard());
  return r;
}

mqb::PreparedModel make() {
  mqb::PrepareOptions opt;
  opt.warn_unsupported = false;
  const char* file = std::getenv("MQB_BENCH_CONFIG");  // a TOML config instead of the backend defaults
  const auto cfg = mqb::resolve_config(
      file ? mqb::load_config(file) : mqb::parse_config("backend = \"" + backend() + "\"\n", "bench.toml"),
      registry());
  return mqb::prepare(resnet18(), cfg, registry(), opt);
}

using mqb::bench::median;
using mqb::bench::thread_cpu_seconds;

void BM_ForwardRatios(benchmark::State& state) {
  at::set_num_threads(1);
  at::NoGradGuard no_grad;
  torch::jit::Module fmodel = torch::jit::load(resnet18());
  fmodel.eval();
  mqb::PreparedModel calib = make();
  mqb::PreparedModel eval = make();
  const at::Tensor x = at::randn({1, 3, 224, 224});
  calib.set_mode(mqb::QuantMode::Calibrate);
  eval.set_mode(mqb::QuantMode::Calibrate);
  eval.forward(x);
  eval.set_mode(mqb::QuantMode::Quantize);
  // Warm up: the profiling executor optimizes after the first runs.
  for (int i = 0; i < 3; ++i) {
    fmodel.forward({x});
    calib.forward(x);
    eval.forward(x);
  }
  std::vector<double> tf, tc, te;
  for (auto _ : state) {
    tf.push_back(thread_cpu_seconds([&] { benchmark::DoNotOptimize(fmodel.forward({x})); }));
    tc.push_back(thread_cpu_seconds([&] { benchmark::DoNotOptimize(calib.forward(x)); }));
    te.push_back(thread_cpu_seconds([&] { benchmark::DoNotOptimize(eval.forward(x)); }));
  }
  // Medians: robust against the other engineers' jobs on the same two cores.
  const double f = median(tf), c = median(tc), e = median(te);
  state.counters["float_ms"] = f * 1e3;
  state.counters["calib_ms"] = c * 1e3;
  state.counters["eval_ms"] = e * 1e3;
  state.counters["calib_vs_float"] = c / f;
  state.counters["eval_vs_float"] = e / f;
  state.counters["sites"] = static_cast<double>(eval.sites().size());
}
BENCHMARK(BM_ForwardRatios)->Iterations(15)->Unit(benchmark::kMillisecond);

void BM_Prepare(benchmark::State& state) {
  at::set_num_threads(1);
  for (auto _ : state) {
    mqb::PreparedModel pm = make();
    benchmark::DoNotOptimize(pm.sites().size());
  }
}
BENCHMARK(BM_Prepare)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
