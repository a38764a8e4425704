// The process-wide table of quantization sites and the `mqb::quantize(Tensor x, int site)`
// operator whose kernel runs them. A prepared graph names each site by an integer id;
// ids are unique in the process, so several prepared models can live side by side.
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "mqb/fake_quantize.h"

namespace mqb::prep {

inline constexpr const char* kQuantizeOp = "mqb::quantize";

// One site's runtime state: its quantizer plus the caches that keep evaluation fast.
struct SiteState {
  std::shared_ptr<FakeQuantize> fq;
  bool is_weight = false;

  // Evaluation with frozen qparams: the weight's fake-quantized value, valid while the
  // weight (data pointer, version) and the quantizer tensors are unchanged.
  at::Tensor cache_out;
  std::vector<int64_t> cache_key;
  at::Tensor cache_scale, cache_zero_point;  // qparams by value: quantizers may return copies
  int64_t cache_hits = 0;
  // Calibration: the weight version last observed (an unchanged weight is not re-observed).
  std::vector<int64_t> observed_key;

  // error_report(): sums over the data while `collect` is on.
  bool collect = false;
  double signal = 0, noise = 0;
  int64_t elements = 0;

  void invalidate() {
    cache_out.reset();
    cache_key.clear();
    cache_scale.reset();
    cache_zero_point.reset();
    observed_key.clear();
  }
};

// Registers a site and returns its id (never reused in the process).
int64_t register_site(std::shared_ptr<SiteState> state);
void unregister_site(int64_t id);

// What the operator's kernel does for one site.
at::Tensor run_site(SiteState& site, const at::Tensor& x);

}  // namespace mqb::prep
