// Reconstruction iterations per second against a plain forward/backward of the same
// unit (one thread, thread CPU time, medians), on the reference resnet_mini (Fashion-MNIST,
// batches of 64 images), W4A4 with AdaRoundFakeQuantize / QDropFakeQuantize:
//   BM_Step/<unit>/<qdrop>  one reconstruction step (batch pick, [QDrop input mix], forward
//                           with soft rounding, loss + rounding loss, backward, Adam) and,
//                           alternately, one forward+backward of the same unit with plain
//                           fake quantization (gradient to its weights). Counters:
//                           step_ms, plain_ms, step_vs_plain, iters_per_s.
// The model is `mqbench train --model resnet_mini`'s cache file; missing, a quick one is
// trained on 2048 images (the timing does not depend on the weights).
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>

#include <filesystem>

#include "../thread_cpu_time.h"
#include "mqb/host/advanced_ptq.h"
#include "mqb/host/prepare.h"
#include "mqb/host/reference_models.h"

namespace {

std::filesystem::path model_file() {
  const auto cached = mqb::reference_model_path("resnet_mini");
  if (std::filesystem::exists(cached)) return cached;
  const auto quick = std::filesystem::temp_directory_path() / "mqb_bench_resnet_mini.pt";
  if (!std::filesystem::exists(quick)) {
    mqb::TrainOptions o;
    o.model = "resnet_mini";
    o.train_limit = 2048;
    o.quiet = true;
    mqb::train_reference_model(o, quick);
  }
  return quick;
}

mqb::Registry& registry() {
  static mqb::Registry r(mqb::SearchPath::standard());
  return r;
}

const std::vector<at::Tensor>& calib_batches() {
  static const std::vector<at::Tensor> b = [] {
    const mqb::LabeledData d = mqb::load_fashion_mnist(mqb::Split::Train);
    const at::Tensor x = mqb::normalize_fashion_mnist(d.inputs.narrow(0, 0, 256));
    std::vector<at::Tensor> out;
    for (int64_t i = 0; i < 4; ++i) out.push_back(x.narrow(0, i * 64, 64).contiguous());
    return out;
  }();
  return b;
}

constexpr const char* kConfig =
    "backend = \"Academic\"\n[extra_qconfig]\nw_observer = \"MSEObserver\"\na_observer = \"EMAMSEObserver\"\n"
    "w_fakequantize = \"AdaRoundFakeQuantize\"\na_fakequantize = \"QDropFakeQuantize\"\n"
    "w_qscheme = { bit = 4, symmetry = true, per_channel = true }\n"
    "a_qscheme = { bit = 4, symmetry = false }\n";

using mqb::bench::median;
using mqb::bench::thread_cpu_seconds;

void BM_Step(benchmark::State& state) {
  at::set_num_threads(1);
  const auto unit = static_cast<size_t>(state.range(0));
  const bool qdrop = state.range(1) != 0;
  mqb::PrepareOptions opt;
  opt.warn_unsupported = false;
  mqb::PreparedModel pm = mqb::prepare(model_file(), mqb::resolve_config(mqb::parse_config(kConfig, "bench.toml"), registry()),
                                       registry(), opt);
  {
    at::NoGradGuard no_grad;
    pm.set_mode(mqb::QuantMode::Calibrate);
    for (const auto& x : calib_batches()) pm.forward(x);
    pm.set_mode(mqb::QuantMode::Quantize);
  }
  mqb::AdvancedPtqConfig cfg;
  cfg.pattern = "block";
  cfg.max_count = 1000;
  cfg.warm_up = 0;  // rounding loss on from the start: the steady-state cost
  cfg.prob = qdrop ? 0.5 : 1.0;
  cfg.scale_lr = 4e-5;
  mqb::Reconstruction rec(pm, cfg, calib_batches());
  if (unit >= rec.units().size()) {
    state.SkipWithError("no such unit");
    return;
  }
  state.SetLabel(rec.units()[unit].name + (qdrop ? " QDrop" : " BRECQ"));
  rec.begin_unit(unit);
  int64_t it = 1;
  for (int i = 0; i < 3; ++i) {  // the profiling executor optimizes after the first runs
    rec.step(it++);
    rec.plain_forward_backward();
  }
  std::vector<double> ts, tp;
  for (auto _ : state) {
    ts.push_back(thread_cpu_seconds([&] { benchmark::DoNotOptimize(rec.step(it++)); }));
    tp.push_back(thread_cpu_seconds([&] { rec.plain_forward_backward(); }));
  }
  const double s = median(ts), p = median(tp);
  state.counters["step_ms"] = s * 1e3;
  state.counters["plain_ms"] = p * 1e3;
  state.counters["step_vs_plain"] = s / p;
  state.counters["iters_per_s"] = 1 / s;
}
// resnet_mini's block units: conv1, layer1, layer2, layer3, fc.
BENCHMARK(BM_Step)->ArgsProduct({{0, 1, 2, 3, 4}, {0, 1}})->Iterations(30)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
