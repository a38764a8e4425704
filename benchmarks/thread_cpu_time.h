// Timing helpers of the benchmarks that time several variants alternately in one loop:
// thread CPU time (the work runs on this thread with one intra-op thread, and CPU time
// is not inflated when other jobs take the cores) and medians of the samples.
#pragma once
#include <algorithm>
#include <ctime>
#include <functional>
#include <vector>

namespace mqb::bench {

inline double thread_cpu_seconds(const std::function<void()>& f) {
  timespec t0{}, t1{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  f();
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
  return static_cast<double>(t1.tv_sec - t0.tv_sec) + 1e-9 * static_cast<double>(t1.tv_nsec - t0.tv_nsec);
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace mqb::bench
