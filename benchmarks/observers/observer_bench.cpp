// Observer benchmarks: MinMax / EMAMinMax / MSE / EMAMSE / EMAQuantile plugins
// (loaded through the registry) on 1M and 16M floats, per-tensor and per-channel
// (64 channels on axis 0). Each case reports, as counters, its time relative to a
// tensor copy of the same size (x_copy, lower is better) and the speed-up over the
// plain ATen composition MQBench performs (vs_aten, higher is better): at::aminmax
// for min/max, and for MSE the candidate loop of fake_quantize_per_tensor_affine +
// mean of squared error (95 candidates per tensor, 80 per channel).
#include <benchmark/benchmark.h>

#include <ATen/ops/aminmax.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/fake_quantize_per_tensor_affine.h>
#include <ATen/ops/full.h>
#include <ATen/ops/randn.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <map>

#include "mqb/host/registry.h"
#include "mqb/qparams_math.h"

namespace {

using Clock = std::chrono::steady_clock;

template <class F>
double median_ms(F&& f, int reps) {
  f();  // warm up
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto a = Clock::now();
    f();
    t.push_back(std::chrono::duration<double, std::milli>(Clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

at::Tensor data(int64_t n, bool per_channel) {
  at::manual_seed(1);
  at::Tensor x = at::randn({n});
  return per_channel ? x.reshape({64, n / 64}) : x;
}

double copy_ms(int64_t n) {
  static std::map<int64_t, double> cache;
  if (!cache.count(n)) {
    const at::Tensor x = data(n, false);
    at::Tensor y = at::empty_like(x);
    cache[n] = median_ms([&] { y.copy_(x); }, 15);
  }
  return cache[n];
}

// MQBench's per-channel layout: swap the channel axis to 0 and flatten (a copy unless axis 0).
at::Tensor channels_first(const at::Tensor& x) { return x.transpose(0, 0).flatten(1); }

double aten_minmax_ms(int64_t n, bool pc) {
  static std::map<std::pair<int64_t, bool>, double> cache;
  const auto key = std::make_pair(n, pc);
  if (!cache.count(key)) {
    const at::Tensor x = data(n, pc);
    cache[key] = median_ms([&] { benchmark::DoNotOptimize(pc ? at::aminmax(channels_first(x), 1) : at::aminmax(x)); }, 15);
  }
  return cache[key];
}

void aten_mse_one(const at::Tensor& x, const mqb::QScheme& s, int iters) {
  auto mm = at::aminmax(x);
  const at::Tensor lo = std::get<0>(mm), hi = std::get<1>(mm);
  float best = 1e10f;
  for (int i = 0; i < iters; ++i) {
    const at::Tensor nlo = lo.mul(1.0 - i * 0.01), nhi = hi.mul(1.0 - i * 0.01);
    const mqb::QParams q = mqb::qparams_from_minmax(nlo, nhi, s, "aten");
    const at::Tensor xq = at::fake_quantize_per_tensor_affine(x, q.scale.item<float>(), q.zero_point.item<int>(),
                                                              s.quant_min(), s.quant_max());
    const float score = xq.sub(x).abs().pow(2.0).mean().item<float>();
    if (score < best) best = score;
  }
  benchmark::DoNotOptimize(best);
}

double aten_mse_ms(int64_t n, bool pc, const mqb::QScheme& s) {
  static std::map<std::pair<int64_t, bool>, double> cache;
  const auto key = std::make_pair(n, pc);
  if (!cache.count(key)) {
    const at::Tensor x = data(n, pc);
    cache[key] = median_ms(
        [&] {
          if (!pc) return aten_mse_one(x, s, 95);
          for (int64_t c = 0; c < x.size(0); ++c) aten_mse_one(x[c], s, 80);
        },
        3);
  }
  return cache[key];
}

mqb::QScheme scheme(bool pc) {
  mqb::QScheme s;
  s.bit = 8;
  s.symmetric = false;
  s.per_channel = pc;
  s.ch_axis = pc ? 0 : -1;
  return s;
}

enum class Baseline { MinMax, Mse, None };

void run_observer(benchmark::State& state, const char* name, Baseline baseline) {
  const int64_t n = state.range(0);
  const bool pc = state.range(1) != 0;
  const mqb::QScheme s = scheme(pc);
  auto obs = mqb::Registry::instance().create_observer(name, mqb::ObserverArgs{s, mqb::Params()});
  const at::Tensor x = data(n, pc);
  double total = 0;
  int64_t iters = 0;
  for (auto _ : state) {
    obs->reset();
    const auto a = Clock::now();
    obs->observe(x);
    total += std::chrono::duration<double, std::milli>(Clock::now() - a).count();
    ++iters;
  }
  const double ms = total / static_cast<double>(iters);
  state.counters["ms"] = ms;
  state.counters["threads"] = at::get_num_threads();
  state.counters["x_copy"] = ms / copy_ms(n);
  if (baseline == Baseline::MinMax) state.counters["vs_aten"] = aten_minmax_ms(n, pc) / ms;
  if (baseline == Baseline::Mse) state.counters["vs_aten"] = aten_mse_ms(n, pc, s) / ms;
  state.SetBytesProcessed(iters * n * 4);
}

void BM_Copy(benchmark::State& state) {
  const at::Tensor x = data(state.range(0), false);
  at::Tensor y = at::empty_like(x);
  for (auto _ : state) y.copy_(x);
  state.counters["ms"] = copy_ms(state.range(0));
  state.SetBytesProcessed(state.iterations() * state.range(0) * 4);
}

void BM_MinMax(benchmark::State& s) { run_observer(s, "MinMaxObserver", Baseline::MinMax); }
void BM_EMAMinMax(benchmark::State& s) { run_observer(s, "EMAMinMaxObserver", Baseline::MinMax); }
void BM_EMAQuantile(benchmark::State& s) { run_observer(s, "EMAQuantileObserver", Baseline::None); }
void BM_MSE(benchmark::State& s) { run_observer(s, "MSEObserver", Baseline::Mse); }
void BM_EMAMSE(benchmark::State& s) { run_observer(s, "EMAMSEObserver", Baseline::Mse); }

constexpr int64_t k1M = 1 << 20, k16M = 1 << 24;

}  // namespace

BENCHMARK(BM_Copy)->Arg(k1M)->Arg(k16M)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MinMax)->ArgsProduct({{k1M, k16M}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EMAMinMax)->ArgsProduct({{k16M}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EMAQuantile)->ArgsProduct({{k1M, k16M}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MSE)->ArgsProduct({{k1M}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EMAMSE)->ArgsProduct({{k1M}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();

// LibTorch's default thread count unless MQB_BENCH_THREADS says otherwise (under load,
// two spinning OpenMP threads distort the copy baseline badly; see README).
int main(int argc, char** argv) {
  if (const char* env = std::getenv("MQB_BENCH_THREADS")) at::set_num_threads(std::atoi(env));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
