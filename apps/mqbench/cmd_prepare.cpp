// `mqbench prepare`: MQBench's prepare_by_platform on a TorchScript file, optional
// calibration on given tensors, the site list, and the prepared state plus the
// deployed TorchScript written to --out.
#include <ATen/core/grad_mode.h>

#include <filesystem>
#include <iomanip>
#include <ostream>

#include "cli_common.h"
#include "mqb/host/prepare.h"
#include "mqb/host/tensor_io.h"

namespace mqb::cli {

int cmd_prepare(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description opts("options");
  std::string config, model, dir;
  std::vector<std::string> calib;
  opts.add_options()("config", po::value(&config)->required(),
                     "the TOML config (backend, extra_qconfig, ...)")(
      "model", po::value(&model)->required(), "a TorchScript file (torch.jit.script / torch.jit.trace)")(
      "calib-npy", po::value(&calib)->multitoken(),
      "calibration input tensors (.npy or torch.save), one batch each")(
      "out", po::value(&dir)->required(), "output folder: prepared.mqb, deployed.pt, sites.txt");
  po::positional_options_description pos;
  po::variables_map vm;
  const std::string usage = "mqbench prepare --config C.toml --model M.pt [--calib-npy x.npy ...] --out DIR";
  if (!parse_options(args, opts, pos, vm, usage, out)) return kOk;

  const Config cfg = load_config(config);
  Registry registry(SearchPath::standard(cfg.plugin_dirs));
  const ResolvedConfig resolved = resolve_config(cfg, registry);
  validate_plugin_params(resolved, registry);
  std::vector<at::Tensor> batches;
  for (const auto& f : calib) batches.push_back(read_tensor(f));  // fail before the slow part

  PreparedModel pm = prepare(model, resolved, registry);
  std::vector<SiteError> errors;
  if (!batches.empty()) {
    at::NoGradGuard no_grad;
    pm.set_mode(QuantMode::Calibrate);
    for (const auto& b : batches) pm.forward(b);
    pm.set_mode(QuantMode::Quantize);
    std::vector<std::vector<at::Tensor>> inputs;
    for (const auto& b : batches) inputs.push_back({b});
    errors = pm.error_report(inputs);
  } else {
    pm.set_mode(QuantMode::Quantize);
  }

  size_t weights = 0;
  for (const auto& s : pm.sites()) weights += s.kind == SiteKind::Weight;
  std::ostringstream list;
  list << model << ": " << pm.sites().size() << " sites (" << weights << " weight, "
       << pm.sites().size() - weights << " activation), backend " << resolved.backend << "\n";
  for (size_t i = 0; i < pm.sites().size(); ++i) {
    const SiteInfo& s = pm.sites()[i];
    list << "  " << std::left << std::setw(40) << s.name << " " << std::setw(10) << to_string(s.kind) << " "
         << std::setw(14) << s.reason << " " << std::setw(14) << s.op << " " << s.config.fake_quantize << "/"
         << s.config.observer << " " << s.config.qscheme.describe();
    if (!errors.empty())
      list << "  sqnr " << std::fixed << std::setprecision(2) << errors[i].sqnr_db << " dB";
    list << "\n";
  }
  if (!pm.unsupported_ops().empty()) {
    list << "left in float (no rule knows them):";
    for (const auto& k : pm.unsupported_ops()) list << " " << k;
    list << "\n";
  }
  out << list.str();
  std::filesystem::create_directories(dir);
  const std::filesystem::path d(dir);
  pm.save(d / "prepared.mqb");
  pm.deploy(d / "deployed.pt");
  write_text_file(d / "sites.txt", list.str());
  out << "wrote " << (d / "prepared.mqb").string() << ", " << (d / "deployed.pt").string()
      << (batches.empty() ? " (not calibrated: qparams are the quantizers' initial values)" : "") << "\n";
  return kOk;
}

}  // namespace mqb::cli
