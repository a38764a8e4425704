// Backend checks: parameters, name, defaults that name loadable plugins with valid
// schemes, site rules that name known op families, and a real prepare of the
// untrained reference CNN: sites where the rules say, calibration, quantized forward
// close to float, save/load round trip and the TorchScript deploy.
#include <ATen/TensorOperators.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/isfinite.h>
#include <ATen/ops/randn.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>

#include "check_tensors.h"
#include "kind_checks.h"
#include "mqb/backend_spec.h"
#include "mqb/host/deploy.h"
#include "mqb/host/prepare.h"
#include "mqb/host/reference_models.h"

namespace mqb::check {
namespace {

namespace fs = std::filesystem;

// The op families the prepare pass knows (core/src/prepare/README.md, "Op families").
const std::set<std::string>& known_families() {
  static const std::set<std::string> f = {"conv",    "conv_transpose", "linear",    "matmul",  "add",
                                          "mul",     "div",            "concat",    "max_pool", "avg_pool",
                                          "upsample", "batch_norm",    "relu",      "relu6",   "prelu",
                                          "sigmoid", "hardswish",      "flatten",   "embedding", "mean",
                                          "sum",     "dropout"};
  return f;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// A fresh temporary folder, removed with this object.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "mqb-check-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw DataError("cannot create a temporary folder in " + fs::temp_directory_path().string());
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// What the checks prepare with when the backend has no defaults (Academic): 8-bit
// MinMax + Fixed, symmetric per-channel weights, asymmetric activations.
QConfig fallback_qconfig() {
  return {make_side("MinMaxObserver", "FixedFakeQuantize", make_qscheme(8, true, true)),
          make_side("MinMaxObserver", "FixedFakeQuantize", make_qscheme(8, false, false))};
}

double sqnr_db(const at::Tensor& ref, const at::Tensor& got) {
  const double signal = ref.to(at::kDouble).pow(2).sum().item<double>();
  const double noise = (ref.to(at::kDouble) - got.to(at::kDouble)).pow(2).sum().item<double>();
  return noise == 0 ? INFINITY : 10 * std::log10(signal / noise);
}

}  // namespace

void check_backend(Registry& registry, const std::string& name, const PluginCheckOptions& o, Recorder& rec) {
  check_rejects_unknown_parameter(rec, o.plugin_params, [&](const Params& p) { registry.create_backend(name, p); });
  std::shared_ptr<BackendPreset> backend;
  const bool created = rec.run("create", [&]() -> std::string {
    backend = registry.create_backend(name, o.plugin_params);
    expect(backend->name() == name, "name() returns '" + backend->name() + "', the descriptor says '" + name + "'");
    const std::string q = backend->qtype();
    expect(q == "affine" || q == "nnie" || q == "vitis", "qtype '" + q + "'; accepted: affine, nnie, vitis");
    return "qtype " + q;
  });
  if (!created) return;

  rec.run("defaults", [&]() -> std::string {
    const auto d = backend->default_qconfig();
    if (!d) {
      expect(backend->override_policy().requires_full_user_qconfig,
             "no default qconfig, yet the override policy does not require a full user qconfig: "
             "every config naming this backend would fail");
      return "none (the user gives the full qconfig)";
    }
    std::ostringstream os;
    for (const auto* side : {&d->weight, &d->activation}) {
      side->qscheme.validate();
      // Creating the quantizer loads both plugins and lets each check its parameters.
      registry.create_quantizer(side->fake_quantize, side->qscheme, side->fakeq_params, side->observer,
                                side->observer_args);
      os << (side == &d->weight ? "weights " : "; activations ") << side->fake_quantize << "/" << side->observer
         << " " << side->qscheme.describe();
    }
    return os.str();
  });

  const SiteRules rules = backend->site_rules();
  rec.run("site_rules", [&]() -> std::string {
    const auto check_list = [&](const std::vector<std::string>& v, const std::string& field) {
      for (const auto& f : v)
        expect(known_families().count(f), field + " names an unknown op family '" + f +
                                              "' (known: core/src/prepare/README.md, \"Op families\")");
    };
    check_list(rules.weight_ops, "weight_ops");
    check_list(rules.act_input_ops, "act_input_ops");
    check_list(rules.act_output_ops, "act_output_ops");
    check_list(rules.output_pass_through_ops, "output_pass_through_ops");
    check_list(rules.reuse_quantizer_ops, "reuse_quantizer_ops");
    check_list(rules.pass_through_producers, "pass_through_producers");
    if (rules.quantize_bias) {
      const QConfigSide& b = rules.bias_quantizer;
      b.qscheme.validate();
      registry.create_quantizer(b.fake_quantize, b.qscheme, b.fakeq_params, b.observer, b.observer_args);
    }
    for (const auto& m : rules.implicit_merges) {
      const size_t arrow = m.find("<-");
      expect(arrow != std::string::npos, "implicit_merges entry '" + m + "' is not \"consumer<-producer\"");
      check_list({m.substr(0, arrow), m.substr(arrow + 2)}, "implicit_merges");
    }
    expect(!rules.weight_ops.empty() || !rules.act_input_ops.empty() || !rules.act_output_ops.empty(),
           "the rules select no site at all");
    return std::to_string(rules.weight_ops.size()) + " weight, " + std::to_string(rules.act_input_ops.size()) +
           " input, " + std::to_string(rules.act_output_ops.size()) + " output op families";
  });

  TempDir tmp;
  std::optional<PreparedModel> pm;
  std::vector<at::Tensor> batches;
  auto gen = at::detail::createCPUGenerator(o.seed + 11);
  for (int i = 0; i < 4; ++i) batches.push_back(at::randn({32, 1, 28, 28}, gen, at::kFloat));

  const bool prepared = rec.run("prepare.sites", [&]() -> std::string {
    save_untrained_reference_model("small_cnn", o.seed, tmp.path / "small_cnn.pt");
    ResolvedConfig r;
    r.backend = name;
    r.backend_qtype = backend->qtype();
    r.qconfig = backend->default_qconfig().value_or(fallback_qconfig());
    r.site_rules = rules;
    PrepareOptions po;
    po.warn_unsupported = false;
    pm.emplace(prepare(tmp.path / "small_cnn.pt", r, registry, po));
    expect(!pm->sites().empty(), "the reference CNN (conv, batch_norm, relu, max_pool, flatten, linear) got no site");
    // small_cnn has two conv and two linear layers: one weight site each whose family the rules
    // list (plus a bias site each when the rules quantize biases).
    const int64_t want = 2 * contains(rules.weight_ops, "conv") + 2 * contains(rules.weight_ops, "linear");
    int64_t weights = 0;
    for (const auto& s : pm->sites()) {
      if (s.reason == "bias") {
        expect(rules.quantize_bias && contains(rules.weight_ops, s.op),
               "bias site '" + s.name + "' though the rules do not quantize biases of '" + s.op + "'");
      } else if (s.kind == SiteKind::Weight) {
        ++weights;
        expect(contains(rules.weight_ops, s.op), "weight site '" + s.name + "' on op '" + s.op + "', not in weight_ops");
      } else if (s.reason == "input") {
        expect(contains(rules.act_input_ops, s.op), "input site '" + s.name + "' of op '" + s.op + "', not in act_input_ops");
      } else if (s.reason == "output") {
        expect(contains(rules.act_output_ops, s.op) || contains(rules.output_pass_through_ops, s.op),
               "output site '" + s.name + "' of op '" + s.op + "', not in act_output_ops");
      } else if (s.reason == "network_input") {
        expect(rules.quantize_network_input, "network input quantized though quantize_network_input is false");
      } else if (s.reason == "network_output") {
        expect(rules.quantize_network_output, "network output quantized though quantize_network_output is false");
      }
    }
    expect(weights == want, std::to_string(weights) + " weight sites; the rules ask for " + std::to_string(want));
    return std::to_string(pm->sites().size()) + " sites (" + std::to_string(weights) + " weight)";
  });
  if (!prepared) return;

  rec.run("prepare.calibrate_and_quantize", [&]() -> std::string {
    at::NoGradGuard no_grad;
    pm->set_training(false);
    pm->set_mode(QuantMode::Calibrate);
    for (const auto& b : batches) pm->forward(b);
    pm->set_mode(QuantMode::Quantize);
    const at::Tensor ref = pm->float_forward({batches[0]});
    const at::Tensor got = pm->forward(batches[0]);
    expect(at::isfinite(got).all().item<bool>(), "quantized outputs are not finite");
    const double db = sqnr_db(ref, got);
    int min_bits = 16;
    for (const auto& s : pm->sites()) min_bits = std::min(min_bits, s.config.qscheme.bit);
    // Roughly 6 dB per bit at the narrowest site, minus what a few stacked layers lose.
    const double want = 6.0 * min_bits - 30.0;
    expect(db >= want, "output SQNR " + std::to_string(db) + " dB vs float; expected >= " + std::to_string(want) +
                           " dB at " + std::to_string(min_bits) + " bits");
    std::ostringstream os;
    os.precision(3);
    os << "output SQNR " << db << " dB vs float (narrowest site " << min_bits << " bits)";
    return os.str();
  });

  rec.run("prepare.save_load", [&]() -> std::string {
    pm->save(tmp.path / "prepared.mqb");
    PreparedModel back = PreparedModel::load(tmp.path / "prepared.mqb", registry);
    at::NoGradGuard no_grad;
    back.set_training(false);
    back.set_mode(QuantMode::Quantize);
    const std::string d = bit_difference(pm->forward(batches[1]), back.forward(batches[1]));
    expect(d.empty(), "the reloaded prepared model computes something else: " + d);
    return "bit-identical outputs after save/load";
  });

  rec.run("deploy.torchscript", [&]() -> std::string {
    try {
      pm->deploy(tmp.path / "deployed.pt");
    } catch (const ModelError& e) {
      skip(std::string("no TorchScript form: ") + e.what());
    }
    expect(fs::file_size(tmp.path / "deployed.pt") > 0, "deployed.pt is empty");
    return "deployed.pt written (" + std::to_string(fs::file_size(tmp.path / "deployed.pt")) + " bytes)";
  });

  // The whole deploy folder through the backend's own deploy hook (README "Deploy"):
  // every file it reports exists and is not empty, and the manifest lists every site.
  rec.run("deploy.folder", [&]() -> std::string {
    DeployOptions opt;
    opt.model_name = "small_cnn";
    opt.input_shape = batches[0].sizes().vec();
    DeployResult r;
    try {
      r = deploy_model(*pm, *backend, tmp.path / "deploy", opt);
    } catch (const ModelError& e) {
      skip(std::string("not deployable: ") + e.what());
    }
    std::string names;
    for (const auto& f : r.files) {
      expect(fs::exists(f) && fs::file_size(f) > 0, f.filename().string() + " is missing or empty");
      names += (names.empty() ? "" : ", ") + f.filename().string();
    }
    expect(fs::exists(r.manifest), "no deploy.json manifest");
    expect(r.sites.size() == pm->sites().size(),
           "the manifest lists " + std::to_string(r.sites.size()) + " of " + std::to_string(pm->sites().size()) + " sites");
    return std::to_string(r.files.size()) + " files: " + names;
  });
}

}  // namespace mqb::check
