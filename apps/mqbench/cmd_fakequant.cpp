// `mqbench fakequant`: placeholder until the tensor-lab command lands.
#include "cli_common.h"

namespace mqb::cli {
int cmd_fakequant(const std::vector<std::string>&, std::ostream&) {
  throw mqb::Error("`mqbench fakequant` is not built yet");
}
}  // namespace mqb::cli
