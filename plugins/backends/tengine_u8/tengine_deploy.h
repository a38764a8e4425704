// Tengine's deploy files (format: DEPLOY.md): the float model with clipped weights and
// <model>_for_tengine.scale, MQBench's deploy_tengine.py records built on the float graph.
#pragma once
#include "mqb/deploy.h"

namespace mqb::tengine {

void write_deploy_files(DeployContext& ctx);

}  // namespace mqb::tengine
