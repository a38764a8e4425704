// Parsing the TOML config with every key and type checked (see mqb/host/config.h).
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "mqb/host/config.h"

namespace fs = std::filesystem;

namespace mqb {

namespace {

class Parser {
 public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  SourceLocation at(const toml::source_region& r) const {
    return {file_, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
  }
  [[noreturn]] void fail(const toml::node& n, const std::string& key_path, const std::string& msg) const {
    throw ConfigError(at(n.source()).describe() + ": " + key_path + ": " + msg);
  }
  [[noreturn]] void unknown(const toml::key& k, const std::string& table_path, const std::string& accepted) const {
    const std::string path = table_path.empty() ? std::string(k.str()) : table_path + "." + std::string(k.str());
    throw ConfigError(at(k.source()).describe() + ": unknown key '" + path + "'; accepted here: " + accepted);
  }

  std::string string(const toml::node& n, const std::string& path) const {
    if (!n.is_string()) fail(n, path, "expected a string, found " + type_name(n));
    return *n.value<std::string>();
  }
  bool boolean(const toml::node& n, const std::string& path) const {
    if (!n.is_boolean()) fail(n, path, "expected true or false, found " + type_name(n));
    return *n.value<bool>();
  }
  int64_t integer(const toml::node& n, const std::string& path) const {
    if (!n.is_integer()) fail(n, path, "expected an integer, found " + type_name(n));
    return *n.value<int64_t>();
  }
  double real(const toml::node& n, const std::string& path) const {
    if (!n.is_number()) fail(n, path, "expected a number, found " + type_name(n));
    return n.is_integer() ? static_cast<double>(*n.value<int64_t>()) : *n.value<double>();
  }
  const toml::table& table(const toml::node& n, const std::string& path) const {
    if (!n.is_table()) fail(n, path, "expected a table, found " + type_name(n));
    return *n.as_table();
  }
  std::vector<std::string> strings(const toml::node& n, const std::string& path) const {
    if (!n.is_array()) fail(n, path, "expected an array of strings, found " + type_name(n));
    std::vector<std::string> out;
    for (const auto& item : *n.as_array()) out.push_back(string(item, path + "[]"));
    return out;
  }
  // A flat table of scalars into Params (plugin parameters).
  Params params(const toml::node& n, const std::string& path) const {
    Params p(path);
    for (auto&& [k, v] : table(n, path)) add_param(p, std::string(k.str()), v, path);
    return p;
  }
  void add_param(Params& p, const std::string& key, const toml::node& v, const std::string& path) const {
    const SourceLocation where = at(v.source());
    if (v.is_boolean()) p.set(key, *v.value<bool>(), where);
    else if (v.is_integer()) p.set(key, *v.value<int64_t>(), where);
    else if (v.is_floating_point()) p.set(key, *v.value<double>(), where);
    else if (v.is_string()) p.set(key, *v.value<std::string>(), where);
    else fail(v, path + "." + key, "expected a boolean, integer, float or string, found " + type_name(v));
  }

  static std::string type_name(const toml::node& n) {
    switch (n.type()) {
      case toml::node_type::table: return "a table";
      case toml::node_type::array: return "an array";
      case toml::node_type::string: return "a string";
      case toml::node_type::integer: return "an integer";
      case toml::node_type::floating_point: return "a float";
      case toml::node_type::boolean: return "a boolean";
      default: return "a date/time";
    }
  }

  QSchemeSpec qscheme(const toml::node& n, const std::string& path) const {
    QSchemeSpec spec;
    spec.where = at(n.source());
    spec.extra_observer_args = Params(path);
    QScheme& s = spec.scheme;
    std::optional<int64_t> ch_axis;
    for (auto&& [k, v] : table(n, path)) {
      const std::string key(k.str()), kp = path + "." + key;
      if (key == "bit") s.bit = static_cast<int>(integer(v, kp));
      else if (key == "symmetry") s.symmetric = boolean(v, kp);
      else if (key == "per_channel") s.per_channel = boolean(v, kp);
      else if (key == "pot_scale") s.pot_scale = boolean(v, kp);
      else if (key == "symmetric_range") s.symmetric_range = boolean(v, kp);
      else if (key == "ch_axis") ch_axis = integer(v, kp);
      else if (key == "quant_min") s.quant_min_override = integer(v, kp);
      else if (key == "quant_max") s.quant_max_override = integer(v, kp);
      else add_param(spec.extra_observer_args, key, v, path);  // observer kwargs, as MQBench
    }
    s.ch_axis = static_cast<int>(ch_axis.value_or(s.per_channel ? 0 : -1));
    try {
      s.validate();
    } catch (const ConfigError& e) {
      fail(n, path, e.what());
    }
    return spec;
  }

  void qconfig(const toml::node& n, Config& cfg) const {
    const std::string path = "extra_qconfig";
    for (auto&& [k, v] : table(n, path)) {
      const std::string key(k.str()), kp = path + "." + key;
      if (key.size() < 3 || (key[0] != 'w' && key[0] != 'a') || key[1] != '_')
        unknown(k, path, kAcceptedQConfig);
      QConfigOverride& side = key[0] == 'w' ? cfg.weight : cfg.activation;
      const std::string field = key.substr(2);
      if (field == "observer") {
        side.observer = string(v, kp);
        side.observer_where = at(v.source());
      } else if (field == "fakequantize") {
        side.fake_quantize = string(v, kp);
        side.fake_quantize_where = at(v.source());
      } else if (field == "qscheme") side.qscheme = qscheme(v, kp);
      else if (field == "fakeq_params") side.fakeq_params = params(v, kp);
      else if (field == "observer_extra_args") side.observer_args = params(v, kp);
      else unknown(k, path, kAcceptedQConfig);
    }
  }

  void extra_quantizer(const toml::node& n, ExtraQuantizer& eq) const {
    const std::string path = "extra_quantizer";
    for (auto&& [k, v] : table(n, path)) {
      const std::string key(k.str()), kp = path + "." + key;
      if (key == "additional_function_type") eq.additional_function_type = strings(v, kp);
      else if (key == "additional_module_type") eq.additional_module_type = strings(v, kp);
      else if (key == "additional_node_name") eq.additional_node_name = strings(v, kp);
      else if (key == "exclude_module_name") eq.exclude_module_name = strings(v, kp);
      else if (key == "exclude_function_type") eq.exclude_function_type = strings(v, kp);
      else if (key == "exclude_node_name") eq.exclude_node_name = strings(v, kp);
      else if (key == "academic_mode") eq.academic_mode = boolean(v, kp);
      else
        unknown(k, path,
                "additional_function_type, additional_module_type, additional_node_name, "
                "exclude_module_name, exclude_function_type, exclude_node_name, academic_mode");
    }
  }

  // [advanced_ptq] (spec §5.8): every key checked here, so a typo fails before any work.
  AdvancedPtqConfig advanced_ptq(const toml::node& n) const {
    const std::string path = "advanced_ptq";
    AdvancedPtqConfig a;
    a.where = at(n.source());
    auto check = [&](bool ok, const toml::node& v, const std::string& kp, const std::string& accepted) {
      if (!ok) fail(v, kp, "out of range; accepted: " + accepted);
    };
    for (auto&& [k, v] : table(n, path)) {
      const std::string key(k.str()), kp = path + "." + key;
      if (key == "enabled") a.enabled = boolean(v, kp);
      else if (key == "pattern") {
        a.pattern = string(v, kp);
        check(a.pattern == "layer" || a.pattern == "block", v, kp, "\"layer\" (AdaRound) or \"block\" (BRECQ, QDrop)");
      } else if (key == "max_count") {
        a.max_count = integer(v, kp);
        check(a.max_count >= 1, v, kp, "an integer >= 1");
      } else if (key == "lr") {
        a.lr = real(v, kp);
        check(a.lr > 0, v, kp, "a number > 0");
      } else if (key == "scale_lr") {
        a.scale_lr = real(v, kp);
        check(*a.scale_lr > 0, v, kp, "a number > 0 (leave the key out to keep activation scales fixed)");
      } else if (key == "warm_up") {
        a.warm_up = real(v, kp);
        check(a.warm_up >= 0 && a.warm_up < 1, v, kp, "a number in [0, 1)");
      } else if (key == "weight") {
        a.weight = real(v, kp);
        check(a.weight >= 0, v, kp, "a number >= 0");
      } else if (key == "b_range") {
        const toml::array* arr = v.as_array();
        if (!arr || arr->size() != 2) fail(v, kp, "expected two numbers [start, end], e.g. [20, 2]");
        a.b_start = real(*arr->get(0), kp + "[0]");
        a.b_end = real(*arr->get(1), kp + "[1]");
        check(a.b_end > 0 && a.b_start >= a.b_end, v, kp, "start >= end > 0, e.g. [20, 2]");
      } else if (key == "prob") {
        a.prob = real(v, kp);
        check(a.prob > 0 && a.prob <= 1, v, kp, "a number in (0, 1] (1: no drop, QDrop uses 0.5)");
      } else if (key == "keep_gpu") a.keep_gpu = boolean(v, kp);
      else if (key == "round_mode") {
        a.round_mode = string(v, kp);
        check(a.round_mode == "learned_hard_sigmoid", v, kp, "\"learned_hard_sigmoid\"");
      } else if (key == "seed") {
        a.seed = integer(v, kp);
        check(a.seed >= 0, v, kp, "an integer >= 0");
      } else
        unknown(k, path, "enabled, pattern, max_count, lr, scale_lr, warm_up, weight, b_range, prob, keep_gpu, round_mode, seed");
    }
    return a;
  }

  Config config(const toml::table& root) const {
    Config cfg;
    cfg.file = file_;
    bool has_backend = false;
    for (auto&& [k, v] : root) {
      const std::string key(k.str());
      if (key == "backend") {
        cfg.backend = string(v, key);
        cfg.backend_where = at(v.source());
        has_backend = true;
      } else if (key == "plugin_dirs") {
        const fs::path base = fs::path(file_).parent_path();
        for (const auto& d : strings(v, key)) cfg.plugin_dirs.push_back(fs::path(d).is_absolute() ? fs::path(d) : base / d);
      } else if (key == "extra_qconfig") qconfig(v, cfg);
      else if (key == "extra_quantizer") extra_quantizer(v, cfg.extra_quantizer);
      else if (key == "advanced_ptq") cfg.advanced_ptq = advanced_ptq(v);
      else if (key == "preserve_attr") {
        for (auto&& [mk, mv] : table(v, key)) cfg.model_options.preserve_attr[std::string(mk.str())] = strings(mv, key + "." + std::string(mk.str()));
      } else if (key == "concrete_args") cfg.model_options.concrete_args = params(v, key);
      else if (key == "leaf_module") cfg.model_options.leaf_module = strings(v, key);
      else unknown(k, "", "backend, plugin_dirs, extra_qconfig, extra_quantizer, preserve_attr, concrete_args, leaf_module, advanced_ptq");
    }
    if (!has_backend)
      throw ConfigError(file_ + ": missing key 'backend' (e.g. backend = \"Tensorrt\"; `mqbench plugins "
                                "--kind backend` lists the backends)");
    return cfg;
  }

  static constexpr const char* kAcceptedQConfig =
      "w_observer, a_observer, w_fakequantize, a_fakequantize, w_qscheme, a_qscheme, w_fakeq_params, "
      "a_fakeq_params, w_observer_extra_args, a_observer_extra_args";

 private:
  std::string file_;
};

}  // namespace

Config parse_config(const std::string& text, const std::string& file) {
  Parser parser(file);
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    throw ConfigError(parser.at(e.source()).describe() + ": malformed TOML: " + std::string(e.description()));
  }
  return parser.config(root);
}

Config load_config(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(file.string() + ": cannot read the config file (does it exist?)");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), file.string());
}

}  // namespace mqb
