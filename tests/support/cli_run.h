// Running the mqbench command line in-process from tests (mqb::cli::run_main; link
// mqb_cli), and a scratch folder per test process.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli_common.h"

namespace mqb::test {

// <tmp>/<prefix><pid>, created on first use.
inline std::filesystem::path process_work_dir(const std::string& prefix) {
  std::filesystem::path p = std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()));
  std::filesystem::create_directories(p);
  return p;
}

// Runs `mqbench args...`; a non-zero exit is a test failure carrying stderr.
inline int run_cli(const std::vector<std::string>& args, std::string* out_text = nullptr) {
  std::ostringstream out, err;
  const int code = mqb::cli::run_main(args, out, err);
  if (out_text) *out_text = out.str();
  if (code != 0) ADD_FAILURE() << "mqbench exited " << code << ": " << err.str();
  return code;
}

}  // namespace mqb::test
