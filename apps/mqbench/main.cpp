// mqbench: the command line front end (see README.md, "Command line").
#include <iostream>

#include "cli_common.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return mqb::cli::run_main(args, std::cout, std::cerr);
}
