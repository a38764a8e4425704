// Reading `mqbench bench` matrices and expanding them into row configs (see bench_matrix.h).
#include "bench_matrix.h"

#include <fnmatch.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <toml++/toml.h>

#include "mqb/host/config.h"

namespace fs = std::filesystem;

namespace mqb::cli {

namespace {

// One value of the observers / quantizers / bits axes: both sides, or each side alone.
template <typename T>
struct SidePair {
  std::optional<T> w, a;
  std::string text;  // as shown in row labels
};

struct Group {
  std::string name;
  std::vector<fs::path> configs;  // empty: rows name only a backend
  std::vector<std::string> backends;
  std::vector<SidePair<std::string>> observers, quantizers;
  std::vector<SidePair<int64_t>> bits;
  std::vector<std::string> modes = {"ptq"};
  toml::table extra_qconfig;
  SourceLocation where;
};

const char* const kTopKeys = "model, data, calib_batches, batch_size, eval_images, seeds, qat, group";
const char* const kGroupKeys = "name, configs, backends, observers, quantizers, bits, modes, extra_qconfig";
const char* const kQatKeys = "epochs, lr, batch_size, train_images, freeze_bn_epoch";

// Every value read is checked; an error names file:line:column and the key path.
class MatrixReader {
 public:
  explicit MatrixReader(std::string file) : file_(std::move(file)), base_(fs::path(file_).parent_path()) {}

  SourceLocation at(const toml::source_region& r) const {
    return {file_, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
  }
  [[noreturn]] void fail(const toml::node& n, const std::string& path, const std::string& msg) const {
    throw ConfigError(at(n.source()).describe() + ": " + path + ": " + msg);
  }
  [[noreturn]] void unknown(const toml::key& k, const std::string& path, const char* accepted) const {
    throw ConfigError(at(k.source()).describe() + ": unknown key '" + path + std::string(k.str()) +
                      "'; accepted here: " + accepted);
  }

  template <typename T>
  T scalar(const toml::node& n, const std::string& path, const char* expected) const {
    const std::optional<T> v = n.value_exact<T>();
    if (!v) fail(n, path, std::string("expected ") + expected);
    return *v;
  }
  int64_t count(const toml::node& n, const std::string& path, int64_t min) const {
    const int64_t v = scalar<int64_t>(n, path, "an integer");
    if (v < min) fail(n, path, "must be at least " + std::to_string(min) + ", found " + std::to_string(v));
    return v;
  }
  // An axis: an array of values, or one value standing for a one-element array.
  void each(const toml::node& n, const std::string& path, const std::function<void(const toml::node&)>& f) const {
    if (const toml::array* arr = n.as_array()) {
      if (arr->empty()) fail(n, path, "an empty axis gives no rows; remove the key or list values");
      for (const auto& item : *arr) f(item);
    } else {
      f(n);
    }
  }
  fs::path relative_path(const std::string& p) const { return fs::path(p).is_absolute() ? fs::path(p) : base_ / p; }

  // A file name pattern with * and ? in its last component, relative to the matrix.
  std::vector<fs::path> glob(const toml::node& n, const std::string& path) const {
    const fs::path pattern = relative_path(scalar<std::string>(n, path, "a config file path (string)"));
    std::vector<fs::path> out;
    const std::string name = pattern.filename().string();
    if (name.find_first_of("*?[") == std::string::npos) {
      if (!fs::is_regular_file(pattern)) fail(n, path, pattern.string() + ": no such config file");
      return {pattern};
    }
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(pattern.parent_path(), ec))
      if (e.is_regular_file() && fnmatch(name.c_str(), e.path().filename().c_str(), 0) == 0) out.push_back(e.path());
    if (out.empty()) fail(n, path, pattern.string() + ": no config file matches");
    std::sort(out.begin(), out.end());
    return out;
  }

  template <typename T>
  SidePair<T> side_pair(const toml::node& n, const std::string& path, const char* expected) const {
    SidePair<T> p;
    auto text = [](const T& v) {
      if constexpr (std::is_same_v<T, std::string>) return v;
      else return std::to_string(v);
    };
    if (const toml::table* t = n.as_table()) {
      for (auto&& [k, v] : *t) {
        const std::string key(k.str());
        if (key == "w") p.w = scalar<T>(v, path + ".w", expected);
        else if (key == "a") p.a = scalar<T>(v, path + ".a", expected);
        else unknown(k, path + ".", "w, a");
      }
      if (!p.w && !p.a) fail(n, path, "give w, a or both");
      p.text = (p.w ? "w:" + text(*p.w) : "") + (p.w && p.a ? " " : "") + (p.a ? "a:" + text(*p.a) : "");
    } else {
      p.w = p.a = scalar<T>(n, path, expected);
      p.text = text(*p.w);
    }
    return p;
  }

  Group group(const toml::node& n, size_t index) const {
    const std::string path = "group[" + std::to_string(index) + "]";
    const toml::table* t = n.as_table();
    if (!t) fail(n, path, "expected a table ([[group]])");
    Group g;
    g.where = at(n.source());
    g.name = "group " + std::to_string(index + 1);
    for (auto&& [k, v] : *t) {
      const std::string key(k.str()), kp = path + "." + key;
      if (key == "name") g.name = scalar<std::string>(v, kp, "a string");
      else if (key == "configs") each(v, kp, [&](const toml::node& i) { for (auto& f : glob(i, kp)) g.configs.push_back(f); });
      else if (key == "backends") each(v, kp, [&](const toml::node& i) { g.backends.push_back(scalar<std::string>(i, kp, "a backend name")); });
      else if (key == "observers")
        each(v, kp, [&](const toml::node& i) { g.observers.push_back(side_pair<std::string>(i, kp, "an observer name")); });
      else if (key == "quantizers")
        each(v, kp, [&](const toml::node& i) { g.quantizers.push_back(side_pair<std::string>(i, kp, "a quantizer name")); });
      else if (key == "bits") each(v, kp, [&](const toml::node& i) { g.bits.push_back(bits(i, kp)); });
      else if (key == "modes") {
        g.modes.clear();
        each(v, kp, [&](const toml::node& i) {
          const std::string m = scalar<std::string>(i, kp, "\"ptq\" or \"qat\"");
          if (m != "ptq" && m != "qat") fail(i, kp, "expected \"ptq\" or \"qat\", found \"" + m + "\"");
          g.modes.push_back(m);
        });
      } else if (key == "extra_qconfig") {
        if (!v.is_table()) fail(v, kp, "expected a table of extra_qconfig keys (as in a config file)");
        g.extra_qconfig = *v.as_table();
      } else unknown(k, path + ".", kGroupKeys);
    }
    if (g.configs.empty() && g.backends.empty())
      fail(n, path, "a group needs base `configs` or a `backends` axis (or both)");
    return g;
  }

  SidePair<int64_t> bits(const toml::node& n, const std::string& path) const {
    SidePair<int64_t> b = side_pair<int64_t>(n, path, "a bit width (integer)");
    for (const auto& v : {b.w, b.a})
      if (v && (*v < QScheme::kMinBit || *v > QScheme::kMaxBit))
        fail(n, path, "bit = " + std::to_string(*v) + " is out of range; accepted: 2..16");
    if (n.is_table()) b.text = "w" + (b.w ? std::to_string(*b.w) : std::string("*")) + "a" + (b.a ? std::to_string(*b.a) : std::string("*"));
    else b.text = "w" + b.text + "a" + b.text;
    return b;
  }

  void qat(const toml::node& n, QatSettings& q) const {
    const toml::table* t = n.as_table();
    if (!t) fail(n, "qat", "expected a table ([qat])");
    for (auto&& [k, v] : *t) {
      const std::string key(k.str()), kp = "qat." + key;
      if (key == "epochs") q.epochs = static_cast<int>(count(v, kp, 1));
      else if (key == "lr") {
        const std::optional<double> lr = v.value<double>();  // integers accepted too
        if (!lr || *lr <= 0) fail(v, kp, "expected a positive number");
        q.lr = *lr;
      } else if (key == "batch_size") q.batch_size = count(v, kp, 1);
      else if (key == "train_images") q.train_images = count(v, kp, 0);
      else if (key == "freeze_bn_epoch") q.freeze_bn_epoch = static_cast<int>(count(v, kp, -1));
      else unknown(k, "qat.", kQatKeys);
    }
  }

  std::vector<Group> read(const toml::table& root, BenchMatrix& m) const {
    std::vector<Group> groups;
    for (auto&& [k, v] : root) {
      const std::string key(k.str());
      if (key == "model") {
        m.model = scalar<std::string>(v, key, "a reference model name or a TorchScript file");
        if (m.model.find('/') != std::string::npos || fs::path(m.model).has_extension())
          m.model = relative_path(m.model).string();
      } else if (key == "data") {
        m.data = scalar<std::string>(v, key, "\"fashion-mnist\" or a data folder");
        if (m.data != "fashion-mnist") m.data = relative_path(m.data).string();
      } else if (key == "calib_batches") m.calib_batches = count(v, key, 1);
      else if (key == "batch_size") m.batch_size = count(v, key, 1);
      else if (key == "eval_images") m.eval_images = count(v, key, 0);
      else if (key == "seeds") {
        m.seeds.clear();
        each(v, key, [&](const toml::node& i) { m.seeds.push_back(static_cast<uint64_t>(count(i, key, 0))); });
      } else if (key == "qat") qat(v, m.qat);
      else if (key == "group") {
        const toml::array* arr = v.as_array();
        if (!arr) fail(v, key, "expected [[group]] tables");
        for (size_t i = 0; i < arr->size(); ++i) groups.push_back(group(*arr->get(i), i));
      } else unknown(k, "", kTopKeys);
    }
    if (groups.empty()) throw ConfigError(file_ + ": no [[group]]: a matrix needs at least one group of rows");
    return groups;
  }

 private:
  std::string file_;
  fs::path base_;
};

std::string slug(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!out.empty() && out.back() != '-') out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out.substr(0, 80);
}

// The base of a row: the config file's table (plugin_dirs made absolute, since the
// row's config lives elsewhere) or an empty table.
toml::table base_table(const fs::path& file) {
  if (file.empty()) return {};
  std::ifstream in(file, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  toml::table t;
  try {
    t = toml::parse(ss.str(), file.string());
  } catch (const toml::parse_error& e) {
    // Same message as `mqbench ptq` would give for this file.
    parse_config(ss.str(), file.string());
    throw ConfigError(file.string() + ": malformed TOML: " + std::string(e.description()));
  }
  if (const toml::array* dirs = t["plugin_dirs"].as_array(); dirs && dirs->is_homogeneous(toml::node_type::string)) {
    toml::array absolute;
    for (const auto& d : *dirs) {
      const fs::path p(*d.value<std::string>());
      absolute.push_back((p.is_relative() ? (file.parent_path() / p).lexically_normal() : p).string());
    }
    t.insert_or_assign("plugin_dirs", std::move(absolute));
  }
  return t;
}

toml::table& qconfig_table(toml::table& t) {
  if (!t["extra_qconfig"].is_table()) t.insert_or_assign("extra_qconfig", toml::table{});
  return *t["extra_qconfig"].as_table();
}

std::string to_text(const toml::table& t) {
  std::ostringstream ss;
  ss << t << "\n";
  return ss.str();
}

// Sets one side's bit width. A scheme the row's config spells out keeps its other
// fields; otherwise the backend's default scheme is written out with the new width.
// Returns why it cannot, or "".
std::string set_bits(toml::table& row, char side, int64_t bit, Registry& registry) {
  const std::string key = std::string(1, side) + "_qscheme";
  toml::table& qc = qconfig_table(row);
  if (toml::table* scheme = qc[key].as_table()) {
    if ((*scheme)["bit"].value_or(int64_t{8}) == bit) return "";  // unchanged (8: QuantizeScheme's default)
    if (scheme->contains("quant_min") || scheme->contains("quant_max"))
      return key + " sets an explicit quant_min/quant_max, which a bit width cannot change";
    scheme->insert_or_assign("bit", bit);
    return "";
  }
  ResolvedConfig resolved;
  try {
    resolved = resolve_config(parse_config(to_text(row), "(row before bits)"), registry);
  } catch (const Error& e) {
    return std::string("cannot resolve the backend's default ") + key + ": " + e.what();
  }
  const QScheme& s = side == 'w' ? resolved.qconfig.weight.qscheme : resolved.qconfig.activation.qscheme;
  if (s.bit == bit) return "";  // nothing changes: keep the backend's own scheme
  if (s.quant_min_override || s.quant_max_override)
    return resolved.backend + "'s default " + key + " has an explicit range [" + std::to_string(s.quant_min()) + ", " +
           std::to_string(s.quant_max()) + "], which a bit width cannot change";
  toml::table t{{"bit", bit}, {"symmetry", s.symmetric}, {"per_channel", s.per_channel}, {"pot_scale", s.pot_scale}};
  if (s.per_channel) t.insert_or_assign("ch_axis", static_cast<int64_t>(s.ch_axis));
  if (s.symmetric_range) t.insert_or_assign("symmetric_range", true);
  qc.insert_or_assign(key, std::move(t));
  return "";
}

template <typename T>
std::vector<std::optional<T>> axis(const std::vector<T>& values) {
  if (values.empty()) return {std::nullopt};  // an absent axis: the base as it is
  return std::vector<std::optional<T>>(values.begin(), values.end());
}

void expand(const Group& g, const BenchMatrix& m, Registry& registry, std::vector<BenchRowSpec>& rows) {
  std::vector<fs::path> bases = g.configs;
  if (bases.empty()) bases.push_back({});
  for (const auto& base : bases)
    for (const auto& backend : axis(g.backends))
      for (const auto& obs : axis(g.observers))
        for (const auto& fq : axis(g.quantizers))
          for (const auto& bits : axis(g.bits))
            for (const auto& mode : g.modes)
              for (const uint64_t seed : m.seeds) {
                BenchRowSpec r;
                r.index = static_cast<int>(rows.size()) + 1;
                r.group = g.name;
                r.mode = mode;
                r.seed = seed;
                r.base_config = base.string();
                std::vector<std::string> label;
                toml::table t = base_table(base);
                if (!base.empty()) label.push_back(base.stem().string());
                if (backend) {
                  t.insert_or_assign("backend", *backend);
                  label.push_back(*backend);
                }
                toml::table& qc = qconfig_table(t);
                for (auto&& [k, v] : g.extra_qconfig) qc.insert_or_assign(k, v);
                auto set_sides = [&](const std::optional<SidePair<std::string>>& p, const char* field) {
                  if (!p) return;
                  if (p->w) qc.insert_or_assign(std::string("w_") + field, *p->w);
                  if (p->a) qc.insert_or_assign(std::string("a_") + field, *p->a);
                  label.push_back(p->text);
                };
                set_sides(obs, "observer");
                set_sides(fq, "fakequantize");
                if (bits) {
                  label.push_back(bits->text);
                  if (bits->w) r.invalid = set_bits(t, 'w', *bits->w, registry);
                  if (r.invalid.empty() && bits->a) r.invalid = set_bits(t, 'a', *bits->a, registry);
                }
                if (qc.empty()) t.erase("extra_qconfig");
                label.push_back(mode == "qat" ? "QAT" : "PTQ");
                if (m.seeds.size() > 1) label.push_back("seed " + std::to_string(seed));
                for (const auto& l : label) r.label += (r.label.empty() ? "" : " ") + l;
                char prefix[16];
                std::snprintf(prefix, sizeof prefix, "%02d-", r.index);
                r.id = prefix + slug(g.name + " " + r.label);
                r.config_toml = "# Row " + std::to_string(r.index) + " of " + m.file + " (group \"" + g.name +
                                "\"): " + r.label + "\n" + (base.empty() ? "" : "# base: " + base.string() + "\n") +
                                to_text(t);
                rows.push_back(std::move(r));
              }
}

}  // namespace

BenchMatrix parse_bench_matrix(const std::string& text, const std::string& file, Registry& registry) {
  MatrixReader reader(file);
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    throw ConfigError(reader.at(e.source()).describe() + ": malformed TOML: " + std::string(e.description()));
  }
  BenchMatrix m;
  m.file = file;
  m.model = "small_cnn";
  m.data = "fashion-mnist";
  const std::vector<Group> groups = reader.read(root, m);
  for (const auto& g : groups) expand(g, m, registry, m.rows);
  return m;
}

BenchMatrix load_bench_matrix(const fs::path& file, Registry& registry) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(file.string() + ": cannot read the matrix file (does it exist?)");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_bench_matrix(ss.str(), file.string(), registry);
}

}  // namespace mqb::cli
