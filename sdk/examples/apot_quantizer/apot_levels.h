// Additive Powers-of-Two levels (Li, Dong, Wang: "Additive Powers-of-Two Quantization:
// An Efficient Non-uniform Discretization for Neural Networks", ICLR 2020), shared by
// the APoT quantizer and observer.
#pragma once
#include <ATen/core/Tensor.h>

#include "mqb/qscheme.h"

namespace apot {

// The 2^B magnitude levels in [0, 1], ascending, largest 1: every sum of one value
// from each of ceil(B/2) terms, term j holding 0 and 2^-(j+1), 2^-(j+1+n), ... (2 bits
// a term, the last one 1 bit for odd B). For B = 2, 4, 6 this is the paper's
// build_power_value; for B = 3 and 5 its hand-made tables are used.
std::vector<float> magnitude_levels(int magnitude_bits);

// B for a scheme: signed schemes (quant_min < 0) spend one bit on the sign.
int magnitude_bits(const mqb::QScheme& scheme);
bool is_signed(const mqb::QScheme& scheme);

// Quantizes u (already divided by the clip value, so in [-1, 1] or [0, 1]) to the
// nearest level, keeping the sign; ties go to the smaller magnitude. No autograd.
at::Tensor quantize_unit(const at::Tensor& u, const at::Tensor& levels);

// The levels as a float tensor (what quantize_unit takes).
at::Tensor levels_tensor(const mqb::QScheme& scheme);

}  // namespace apot
