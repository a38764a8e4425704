// The mqbench dispatcher and shared option parsing.
#include "cli_common.h"

#include <algorithm>
#include <iomanip>
#include <ostream>

#include "mqb/host/reference_models.h"
#include "mqb/plugin.h"

namespace mqb::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"plugins", "list the plugins on the search path (no object is created)", cmd_plugins},
      {"config", "show a config fully resolved against its backend (`config show FILE`)", cmd_config},
      {"observe", "feed tensors to an observer and print its state and qparams as JSON", cmd_observe},
      {"fakequant", "run a fake quantizer forward/backward on tensors and write the results", cmd_fakequant},
      {"prepare", "quantize a TorchScript model: sites, calibration, prepared state and deployed TorchScript",
       cmd_prepare},
      {"train", "train a reference model on Fashion-MNIST (cached; reused unless --force)", cmd_train},
      {"ptq", "post-training quantization under one or more configs, with a comparison table", cmd_ptq},
      {"qat", "quantization-aware training with learnable quantizers, checkpoints and --resume", cmd_qat},
      {"eval", "top-1 accuracy of a float, deployed or prepared model on Fashion-MNIST or a data folder", cmd_eval},
      {"bench", "a matrix of backends x observers x quantizers x bits x PTQ/QAT, with Markdown/CSV/JSON/HTML reports",
       cmd_bench},
      {"check-plugin", "conformance kit: load a plugin library and run the generic checks of its kind",
       cmd_check_plugin},
      {"deploy", "writes the deployed TorchScript, the QDQ ONNX model and the backend's own files from a prepared model", cmd_deploy},
      {"verify", "runs a deploy folder's quantized ONNX models in ONNX Runtime against its TorchScript: top-1 of each, agreement", cmd_verify},
  };
  return table;
}

bool parse_options(const std::vector<std::string>& args, const po::options_description& options,
                   const po::positional_options_description& positional, po::variables_map& vm,
                   const std::string& usage, std::ostream& out) {
  po::options_description all(options);
  all.add_options()("help,h", "show this help");
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), vm);
    if (vm.count("help")) {
      out << usage << "\n\n" << all << "\n";
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + "\nusage: " + usage);
  }
  return true;
}

std::string model_or_reference(const std::string& model) {
  if (!model.empty()) return model;
  const std::string reference = reference_model_path().string();
  if (!std::filesystem::exists(reference))
    throw DataError("no --model given and the reference model " + reference + " does not exist yet; run `mqbench train`");
  return reference;
}

namespace {
void print_help(std::ostream& out) {
  out << "mqbench " << MQB_SDK_VERSION
      << ": plugin-based model quantization (MQBench in C++)\n\n"
         "usage: mqbench [--help] [--version] <command> [options]\n\ncommands:\n";
  size_t width = 0;  // the longest command name plus two spaces
  for (const auto& c : commands()) width = std::max(width, std::string(c.name).size() + 2);
  for (const auto& c : commands())
    out << "  " << std::left << std::setw(static_cast<int>(width)) << c.name << c.summary << "\n";
  out << "\n`mqbench <command> --help` shows a command's options.\n"
         "exit codes: 0 success, 1 error (bad config, plugin, data), 2 usage error.\n"
         "plugins are searched in: config plugin_dirs, $MQB_PLUGIN_PATH, the install dir, the build tree.\n";
}
}  // namespace

int run_main(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    print_help(out);
    return args.empty() ? kUsage : kOk;
  }
  if (args[0] == "--version") {
    out << "mqbench " << MQB_SDK_VERSION << " (SDK " << MQB_SDK_VERSION << ", plugin ABI "
        << MQB_PLUGIN_ABI_VERSION << ", LibTorch " << TORCH_VERSION_MAJOR << "." << TORCH_VERSION_MINOR
        << "." << TORCH_VERSION_PATCH << ")\n";
    return kOk;
  }
  for (const auto& c : commands()) {
    if (args[0] != c.name) continue;
    try {
      return c.run(std::vector<std::string>(args.begin() + 1, args.end()), out);
    } catch (const UsageError& e) {
      err << "mqbench " << c.name << ": " << e.what() << "\n";
      return kUsage;
    } catch (const mqb::Error& e) {
      err << "mqbench " << c.name << ": error: " << e.what() << "\n";
      return kFailure;
    } catch (const std::exception& e) {
      err << "mqbench " << c.name << ": error: " << e.what() << "\n";
      return kFailure;
    }
  }
  err << "mqbench: unknown command '" << args[0] << "'; commands:";
  for (const auto& c : commands()) err << " " << c.name;
  err << "\n(run `mqbench --help`)\n";
  return kUsage;
}

}  // namespace mqb::cli
