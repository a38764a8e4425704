// TensorRT's deploy files (format: DEPLOY.md), shared by Tensorrt and Tensorrt_NLP.
#pragma once
#include "mqb/deploy.h"

namespace mqb::tensorrt {

void write_deploy_files(DeployContext& ctx);

}  // namespace mqb::tensorrt
