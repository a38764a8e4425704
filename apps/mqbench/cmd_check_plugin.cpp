// `mqbench check-plugin FILE.so ...`: the conformance kit. Loads each plugin library
// through the real loader and runs the generic checks of its kind (plugin_check/),
// printing pass / FAIL / skip with the reason per check, or --json. Exit 1 when any
// check of any file failed.
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli_common.h"
#include "plugin_check/plugin_check.h"
#include "tensor_lab.h"

namespace mqb::cli {

namespace {

const char* kCheckPluginUsage =
    "mqbench check-plugin FILE.so [FILE.so ...] [--observer NAME] [--param key=value ...]\n"
    "                     [--observer-param key=value ...] [--plugin-dir DIR] [--seed N] [--json]";

void print_report(const check::PluginCheckReport& r, std::ostream& out) {
  out << r.file << "\n  " << (r.kind.empty() ? "?" : r.kind) << " " << (r.name.empty() ? "?" : r.name) << "\n";
  size_t w = 8;
  for (const auto& c : r.checks) w = std::max(w, c.name.size());
  int failed = 0, skipped = 0;
  for (const auto& c : r.checks) {
    out << "  " << std::left << std::setw(5) << check::to_string(c.status) << std::setw(static_cast<int>(w) + 2)
        << c.name << c.detail << "\n";
    failed += c.status == check::Status::Fail;
    skipped += c.status == check::Status::Skip;
  }
  out << "  " << (r.passed() ? "PASSED" : "FAILED") << ": " << r.checks.size() - static_cast<size_t>(failed + skipped)
      << " passed, " << failed << " failed, " << skipped << " skipped\n";
}

nlohmann::json to_json(const check::PluginCheckReport& r) {
  nlohmann::json j{{"file", r.file}, {"kind", r.kind}, {"name", r.name}, {"passed", r.passed()}};
  j["checks"] = nlohmann::json::array();
  for (const auto& c : r.checks)
    j["checks"].push_back({{"name", c.name}, {"status", check::to_string(c.status)}, {"detail", c.detail}});
  return j;
}

}  // namespace

int cmd_check_plugin(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description opts("options");
  std::vector<std::string> files, params, observer_params, dirs;
  check::PluginCheckOptions o;
  opts.add_options()("file", po::value(&files), "plugin libraries to check (positional)")(
      "observer", po::value(&o.observer)->default_value(o.observer), "the observer a checked quantizer owns")(
      "param", po::value(&params)->composing(), "parameter of the checked plugin, key=value (repeatable)")(
      "observer-param", po::value(&observer_params)->composing(), "parameter of that observer (repeatable)")(
      "plugin-dir", po::value(&dirs)->composing(), "search this directory too, after the file's own")(
      "seed", po::value(&o.seed)->default_value(0), "seed of the random inputs")("json", "print JSON");
  po::positional_options_description pos;
  pos.add("file", -1);
  po::variables_map vm;
  if (!parse_options(args, opts, pos, vm, kCheckPluginUsage, out)) return kOk;
  if (files.empty()) throw UsageError("check-plugin: name at least one plugin library (FILE.so)");
  const std::string tail = std::string("\nusage: ") + kCheckPluginUsage;
  add_key_values(o.plugin_params, params, "--param", tail);
  add_key_values(o.observer_params, observer_params, "--observer-param", tail);
  o.plugin_dirs.assign(dirs.begin(), dirs.end());

  bool all = true;
  nlohmann::json j = nlohmann::json::array();
  for (const auto& f : files) {
    const check::PluginCheckReport r = check::check_plugin_file(f, o);
    all = all && r.passed();
    if (vm.count("json")) j.push_back(to_json(r));
    else print_report(r, out);
  }
  if (vm.count("json")) out << j.dump(2) << "\n";
  else if (files.size() > 1) out << (all ? "all plugins passed" : "some plugins FAILED") << "\n";
  return all ? kOk : kFailure;
}

}  // namespace mqb::cli
