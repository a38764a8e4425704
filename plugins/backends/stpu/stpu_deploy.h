// STPU's deploy files (format: DEPLOY.md): the float model with clipped weights and
// <model>_stpu_minmax.json, MQBench's deploy_stpu.py records built on the float graph.
#pragma once
#include "mqb/deploy.h"

namespace mqb::stpu {

void write_deploy_files(DeployContext& ctx);

// E(v) of spec §5.7 (g): the biased IEEE-754 single-precision exponent of |v|; 0 for 0,
// 1 below 2^-126 (subnormals), 254 from 2^127 on (and for inf/NaN).
int biased_exponent(double v);

}  // namespace mqb::stpu
