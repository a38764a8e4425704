// `mqbench config show FILE`: the fully resolved qconfig, as text or JSON.
#include <ostream>

#include "cli_common.h"
#include "mqb/host/advanced_ptq.h"
#include "json_out.h"
#include "mqb/host/config.h"

namespace mqb::cli {

namespace {

void print_params(std::ostream& out, const char* label, const Params& p) {
  out << "    " << label << ":";
  if (p.empty()) out << " (none)";
  for (const auto& k : p.keys()) out << " " << k << "=" << p.to_string(k);
  out << "\n";
}

void print_side(std::ostream& out, const char* title, const QConfigSide& s) {
  out << "  " << title << ":\n"
      << "    observer:      " << s.observer << "\n"
      << "    fake_quantize: " << s.fake_quantize << "\n"
      << "    qscheme:       " << s.qscheme.describe() << " (" << s.qscheme.name() << ")\n";
  print_params(out, "observer args", s.observer_args);
  print_params(out, "fakeq params ", s.fakeq_params);
}

void print_list(std::ostream& out, const char* key, const std::vector<std::string>& v) {
  if (v.empty()) return;
  out << "  " << key << ":";
  for (const auto& s : v) out << " " << s;
  out << "\n";
}

}  // namespace

int cmd_config(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description opts("options");
  std::string action, file;
  opts.add_options()("action", po::value(&action)->required(), "show")(
      "file", po::value(&file)->required(), "the TOML config")("json", "print JSON");
  po::positional_options_description pos;
  pos.add("action", 1).add("file", 1);
  po::variables_map vm;
  const std::string usage = "mqbench config show FILE [--json]";
  if (!parse_options(args, opts, pos, vm, usage, out)) return kOk;
  if (action != "show") throw UsageError("unknown action '" + action + "'; accepted: show\nusage: " + usage);

  const Config cfg = load_config(file);
  Registry registry(SearchPath::standard(cfg.plugin_dirs));
  const ResolvedConfig r = resolve_config(cfg, registry);
  validate_plugin_params(r, registry);
  if (vm.count("json")) {
    out << to_json(r).dump(2) << "\n";
    return kOk;
  }
  out << "config " << file << "\n"
      << "  backend: " << r.backend << " (qtype " << r.backend_qtype << ", graph rules "
      << r.site_rules.graph_quantizer << ")\n";
  print_side(out, "weight", r.qconfig.weight);
  print_side(out, "activation", r.qconfig.activation);
  const auto& eq = r.extra_quantizer;
  out << "  extra_quantizer:" << (eq.academic_mode ? " academic_mode" : "") << "\n";
  print_list(out, "additional_function_type", eq.additional_function_type);
  print_list(out, "additional_module_type", eq.additional_module_type);
  print_list(out, "additional_node_name", eq.additional_node_name);
  print_list(out, "exclude_module_name", eq.exclude_module_name);
  print_list(out, "exclude_function_type", eq.exclude_function_type);
  print_list(out, "exclude_node_name", eq.exclude_node_name);
  if (cfg.advanced_ptq) {
    const AdvancedPtqConfig& a = *cfg.advanced_ptq;
    out << "  advanced_ptq: " << (a.enabled ? reconstruction_method(a) : "off (enabled = false)") << ", pattern "
        << a.pattern << ", max_count " << a.max_count << ", lr " << a.lr << ", scale_lr "
        << (a.scale_lr ? std::to_string(*a.scale_lr) : std::string("(fixed scales)")) << ", warm_up " << a.warm_up
        << ", weight " << a.weight << ", b_range [" << a.b_start << ", " << a.b_end << "], prob " << a.prob
        << ", seed " << a.seed << "\n";
  }
  out << "  where each value came from:\n";
  for (const auto& p : r.provenance) out << "    " << p << "\n";
  return kOk;
}

}  // namespace mqb::cli
