// mqbench: the command line front end (see README.md, "Command line").
#include <iostream>

#include "cli_common.h"
#include "mqb/host/allocator_tuning.h"

int main(int argc, char** argv) {
  // Calibration and training allocate the same large tensors over and over.
  mqb::keep_freed_memory_for_large_tensors();
  std::vector<std::string> args(argv + 1, argv + argc);
  return mqb::cli::run_main(args, std::cout, std::cerr);
}
