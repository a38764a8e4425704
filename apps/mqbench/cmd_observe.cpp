// `mqbench observe`: placeholder until the tensor-lab command lands.
#include "cli_common.h"

namespace mqb::cli {
int cmd_observe(const std::vector<std::string>&, std::ostream&) {
  throw mqb::Error("`mqbench observe` is not built yet");
}
}  // namespace mqb::cli
