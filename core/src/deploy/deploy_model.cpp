// deploy_model (see mqb/host/deploy.h): the core's DeployContext and the folder it fills.
#include "mqb/host/deploy.h"

#include <set>

#include "float_graph.h"
#include "mqb/host/onnx_export.h"
#include "mqb/host/tensor_io.h"

namespace mqb {

namespace {

namespace fs = std::filesystem;

class CoreDeployContext final : public DeployContext {
 public:
  CoreDeployContext(const PreparedModel& model, std::string backend, const fs::path& out_dir,
                    const DeployOptions& options)
      : model_(model), backend_(std::move(backend)), out_dir_(fs::absolute(out_dir)), options_(options) {
    // Only the sites the deployed graph runs: a scripted F.interpolate quantizes its
    // output in every rank branch, and the untaken ones name tensors no file contains.
    std::set<std::string> reached;
    graph_ = float_model_graph(model_, export_options(OnnxForm::Float), &reached);
    for (DeploySite& s : deploy_sites(model))
      if (reached.count(s.name)) sites_.push_back(std::move(s));
  }

  const std::string& backend() const override { return backend_; }
  const std::string& model_name() const override { return options_.model_name; }
  const fs::path& out_dir() const override { return out_dir_; }
  const std::vector<DeploySite>& sites() const override { return sites_; }
  const fs::path& qdq_onnx() const override { return qdq_onnx_; }
  // Every ONNX model written, with its form (verify runs the QDQ and QLinear ones).
  const nlohmann::json& onnx_models() const { return onnx_models_; }

  fs::path write_onnx(const std::string& file_name, OnnxForm form) override {
    const fs::path file = out_dir_ / file_name;
    if (fs::path(file_name).filename() != fs::path(file_name))
      throw Error("deploy: '" + file_name + "' is not a plain file name");
    export_onnx(model_, file, export_options(form));
    record(file);
    onnx_models_.push_back({{"file", file_name}, {"form", to_string(form)}});
    return file;
  }

  const DeployGraph& graph() const override { return graph_; }

  // NNIE's log-domain sites have neither an aten fake-quant op nor QuantizeLinear: such
  // a model gets only its backend's files.
  bool has_affine_form() const {
    for (const DeploySite& s : sites_)
      if (s.log_domain) return false;
    return true;
  }

  void write_core_files(DeployResult& r) {
    if (!has_affine_form()) return;
    r.torchscript = out_dir_ / "deployed.pt";
    model_.deploy(r.torchscript);
    record(r.torchscript);
    qdq_onnx_ = write_onnx(options_.model_name + "_qdq.onnx", OnnxForm::QDQ);
    r.qdq_onnx = qdq_onnx_;
  }

 private:
  OnnxExportOptions export_options(OnnxForm form) const {
    OnnxExportOptions o;
    o.form = form;
    o.input_shape = options_.input_shape;
    o.graph_name = options_.model_name;
    return o;
  }

  const PreparedModel& model_;
  std::string backend_;
  fs::path out_dir_;
  DeployOptions options_;
  std::vector<DeploySite> sites_;
  fs::path qdq_onnx_;
  nlohmann::json onnx_models_ = nlohmann::json::array();
  DeployGraph graph_;
};

nlohmann::json site_json(const DeploySite& s) {
  return {{"name", s.name},           {"tensor", s.tensor},       {"is_weight", s.is_weight},
          {"op", s.op},               {"scale", s.scale},         {"zero_point", s.zero_point},
          {"quant_min", s.quant_min}, {"quant_max", s.quant_max}, {"bit", s.bit},
          {"axis", s.axis},           {"symmetric", s.symmetric}, {"pot_scale", s.pot_scale},
          {"log_domain", s.log_domain}, {"data_max", s.data_max}};
}

nlohmann::json file_or_null(const fs::path& f) {
  return f.empty() ? nlohmann::json(nullptr) : nlohmann::json(f.filename().string());
}

}  // namespace

DeployResult deploy_model(const PreparedModel& model, const BackendPreset& backend, const fs::path& out_dir,
                          const DeployOptions& options) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw DataError(out_dir.string() + ": cannot create the deploy folder: " + ec.message());
  CoreDeployContext ctx(model, backend.name(), out_dir, options);
  DeployResult r;
  r.out_dir = ctx.out_dir();
  ctx.write_core_files(r);
  backend.deploy(ctx);

  nlohmann::json files = nlohmann::json::array();
  for (const fs::path& f : ctx.written()) files.push_back(f.filename().string());
  nlohmann::json sites = nlohmann::json::array();
  for (const DeploySite& s : ctx.sites()) sites.push_back(site_json(s));
  const nlohmann::json manifest = {{"format", kDeployManifestFormat},
                                   {"backend", backend.name()},
                                   {"model_name", options.model_name},
                                   {"input_shape", options.input_shape},
                                   {"torchscript", file_or_null(r.torchscript)},
                                   {"qdq_onnx", file_or_null(r.qdq_onnx)},
                                   {"onnx_models", ctx.onnx_models()},
                                   {"files", files},
                                   {"sites", sites}};
  r.manifest = ctx.write_json(kDeployManifest, manifest);
  r.files = ctx.written();
  r.sites = ctx.sites();
  return r;
}

}  // namespace mqb
