// Shared pieces of the mqbench commands: the command table, usage errors (exit 2)
// and option parsing.
#pragma once
#include <boost/program_options.hpp>

#include <iosfwd>
#include <string>
#include <vector>

#include "mqb/error.h"

namespace mqb::cli {

namespace po = boost::program_options;

// Exit codes, documented in README.md.
enum ExitCode { kOk = 0, kFailure = 1, kUsage = 2 };

// A command line that cannot be understood: printed with the command's usage, exit 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args, std::ostream& out);
};

const std::vector<Command>& commands();

// Parses `args` against `options` (+ positional); --help prints `usage` and the
// options and returns false (the command then exits 0).
bool parse_options(const std::vector<std::string>& args, const po::options_description& options,
                   const po::positional_options_description& positional, po::variables_map& vm,
                   const std::string& usage, std::ostream& out);

// The --model argument, or the cached reference model when it is empty (DataError
// telling to run `mqbench train` when that does not exist yet).
std::string model_or_reference(const std::string& model);

// Runs the whole program: returns the exit code (never throws).
int run_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

int cmd_plugins(const std::vector<std::string>& args, std::ostream& out);
int cmd_config(const std::vector<std::string>& args, std::ostream& out);
int cmd_observe(const std::vector<std::string>& args, std::ostream& out);
int cmd_fakequant(const std::vector<std::string>& args, std::ostream& out);
int cmd_prepare(const std::vector<std::string>& args, std::ostream& out);
int cmd_train(const std::vector<std::string>& args, std::ostream& out);
int cmd_ptq(const std::vector<std::string>& args, std::ostream& out);
int cmd_qat(const std::vector<std::string>& args, std::ostream& out);
int cmd_eval(const std::vector<std::string>& args, std::ostream& out);
int cmd_bench(const std::vector<std::string>& args, std::ostream& out);
int cmd_check_plugin(const std::vector<std::string>& args, std::ostream& out);
int cmd_deploy(const std::vector<std::string>& args, std::ostream& out);
int cmd_verify(const std::vector<std::string>& args, std::ostream& out);

}  // namespace mqb::cli
