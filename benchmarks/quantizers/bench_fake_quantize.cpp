// The SDK's fused fake-quant kernels against ATen's kernels on the same tensors
// (1M and 16M floats, per-tensor and per-channel), and against a copy of the tensor,
// the memory-bandwidth floor. Each benchmark times our kernel; the baselines are
// timed in the same process just before and reported as counters:
//   vs_aten = ATen time / our time (speedup), vs_copy = our time / time of a copy into
//   an existing tensor, vs_clone = our time / time of x.clone() (a copy into a fresh
//   allocation, which pays the same first-touch page faults as any op's output).
#include <benchmark/benchmark.h>

#include "mqb/host/allocator_tuning.h"

#include <ATen/ops/_fake_quantize_learnable_per_tensor_affine.h>
#include <ATen/ops/_fake_quantize_learnable_per_tensor_affine_backward.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/fake_quantize_per_channel_affine_cachemask.h>
#include <ATen/ops/fake_quantize_per_tensor_affine_cachemask.h>
#include <ATen/ops/full.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/randn.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#include "mqb/fake_quant_kernels.h"

namespace {

constexpr int64_t kChannels = 64;

struct Data {
  at::Tensor x, dy, scale, zp, zp_float, scale_pc, zp_pc;
};

const Data& data(int64_t n) {
  static std::map<int64_t, Data> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  at::manual_seed(1);
  Data d;
  d.x = at::randn({kChannels, n / kChannels}, at::kFloat).mul(2);
  d.dy = at::randn({kChannels, n / kChannels}, at::kFloat);
  d.scale = at::full({1}, 0.02f, at::kFloat);
  d.zp = at::full({1}, 128, at::kInt);
  d.zp_float = at::full({1}, 128.0f, at::kFloat);
  d.scale_pc = at::rand({kChannels}, at::kFloat).mul(0.02).add(0.01);
  d.zp_pc = at::full({kChannels}, 128, at::kInt);
  return cache.emplace(n, d).first->second;
}

// Median wall time of f over a few runs, in seconds.
double seconds(const std::function<void()>& f) {
  f();  // warm up
  std::vector<double> t;
  for (int i = 0; i < 7; ++i) {
    const auto a = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Runs `ours` under the benchmark loop and reports the ratios to the baselines.
void measure(benchmark::State& state, const std::function<void()>& ours, const std::function<void()>& aten) {
  const Data& d = data(state.range(0));
  at::Tensor copy_dst = at::empty_like(d.x);
  const double t_copy = seconds([&] { copy_dst.copy_(d.x); });
  const double t_clone = seconds([&] { benchmark::DoNotOptimize(d.x.clone()); });
  const double t_aten = seconds(aten);
  const double t_ours = seconds(ours);
  for (auto _ : state) ours();
  state.counters["vs_aten"] = t_aten / t_ours;
  state.counters["vs_copy"] = t_ours / t_copy;
  state.counters["aten_ms"] = t_aten * 1e3;
  state.counters["copy_ms"] = t_copy * 1e3;
  state.counters["vs_clone"] = t_ours / t_clone;
  state.SetBytesProcessed(state.iterations() * d.x.numel() * static_cast<int64_t>(sizeof(float)));
}

void BM_ForwardPerTensor(benchmark::State& state) {
  const Data& d = data(state.range(0));
  measure(
      state, [&] { benchmark::DoNotOptimize(mqb::fq_affine_forward(d.x, d.scale, d.zp, 0, 255, -1)); },
      [&] { benchmark::DoNotOptimize(at::fake_quantize_per_tensor_affine_cachemask(d.x, 0.02, 128, 0, 255)); });
}

void BM_ForwardPerChannel(benchmark::State& state) {
  const Data& d = data(state.range(0));
  measure(
      state, [&] { benchmark::DoNotOptimize(mqb::fq_affine_forward(d.x, d.scale_pc, d.zp_pc, 0, 255, 0)); },
      [&] {
        benchmark::DoNotOptimize(at::fake_quantize_per_channel_affine_cachemask(d.x, d.scale_pc, d.zp_pc, 0, 0, 255));
      });
}

void aten_forward_backward_per_tensor(const Data& d) {
  auto ym = at::fake_quantize_per_tensor_affine_cachemask(d.x, 0.02, 128, 0, 255);
  benchmark::DoNotOptimize(d.dy.mul(std::get<1>(ym)));
}

// Forward + backward as autograd runs them: ATen keeps a bool mask and multiplies;
// per-tensor we keep a packed bit mask, per-channel we recompute the mask from x.
void BM_ForwardBackwardPerTensor(benchmark::State& state) {
  const Data& d = data(state.range(0));
  measure(
      state,
      [&] {
        auto [y, mask] = mqb::fq_affine_forward_with_mask(d.x, d.scale, d.zp, 0, 255);
        benchmark::DoNotOptimize(y);
        benchmark::DoNotOptimize(mqb::fq_affine_backward_from_mask(d.dy, mask));
      },
      [&] { aten_forward_backward_per_tensor(d); });
}

// The per-tensor pair without a kept mask (the backward reads x again), for comparison.
void BM_ForwardBackwardPerTensorRecompute(benchmark::State& state) {
  const Data& d = data(state.range(0));
  measure(
      state,
      [&] {
        benchmark::DoNotOptimize(mqb::fq_affine_forward(d.x, d.scale, d.zp, 0, 255, -1));
        benchmark::DoNotOptimize(mqb::fq_affine_backward(d.dy, d.x, d.scale, d.zp, 0, 255, -1));
      },
      [&] { aten_forward_backward_per_tensor(d); });
}

void BM_ForwardBackwardPerChannel(benchmark::State& state) {
  const Data& d = data(state.range(0));
  measure(
      state,
      [&] {
        benchmark::DoNotOptimize(mqb::fq_affine_forward(d.x, d.scale_pc, d.zp_pc, 0, 255, 0));
        benchmark::DoNotOptimize(mqb::fq_affine_backward(d.dy, d.x, d.scale_pc, d.zp_pc, 0, 255, 0));
      },
      [&] {
        auto ym = at::fake_quantize_per_channel_affine_cachemask(d.x, d.scale_pc, d.zp_pc, 0, 0, 255);
        benchmark::DoNotOptimize(d.dy.mul(std::get<1>(ym)));
      });
}

void BM_LearnableForwardBackwardPerTensor(benchmark::State& state) {
  const Data& d = data(state.range(0));
  const double gf = 1e-3;
  measure(
      state,
      [&] {
        benchmark::DoNotOptimize(mqb::fq_learnable_forward(d.x, d.scale, d.zp_float, 0, 255, -1));
        benchmark::DoNotOptimize(mqb::fq_learnable_backward(d.dy, d.x, d.scale, d.zp_float, 0, 255, -1, gf));
      },
      [&] {
        benchmark::DoNotOptimize(at::_fake_quantize_learnable_per_tensor_affine(d.x, d.scale, d.zp_float, 0, 255, gf));
        benchmark::DoNotOptimize(
            at::_fake_quantize_learnable_per_tensor_affine_backward(d.dy, d.x, d.scale, d.zp_float, 0, 255, gf));
      });
}

#define MQB_SIZES ->Arg(1 << 20)->Arg(1 << 24)->Unit(benchmark::kMillisecond)->UseRealTime()
BENCHMARK(BM_ForwardPerTensor) MQB_SIZES;
BENCHMARK(BM_ForwardPerChannel) MQB_SIZES;
BENCHMARK(BM_ForwardBackwardPerTensor) MQB_SIZES;
BENCHMARK(BM_ForwardBackwardPerTensorRecompute) MQB_SIZES;
BENCHMARK(BM_ForwardBackwardPerChannel) MQB_SIZES;
BENCHMARK(BM_LearnableForwardBackwardPerTensor) MQB_SIZES;

}  // namespace

// The same allocator settings as the mqbench program, for ours and ATen's kernels alike.
int main(int argc, char** argv) {
  mqb::keep_freed_memory_for_large_tensors();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
