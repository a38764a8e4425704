// verify_deployed (see mqb/host/verify.h).
#include "mqb/host/verify.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/abs.h>
#include <ATen/ops/argmax.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/eq.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>

#include "../prepare/prepared_impl.h"
#include "mqb/build_paths.h"
#include "mqb/host/deploy.h"
#include "mqb/host/tensor_io.h"

namespace mqb {

namespace fs = std::filesystem;

namespace {

nlohmann::json read_manifest(const fs::path& dir) {
  const fs::path file = dir / kDeployManifest;
  std::ifstream in(file);
  if (!in) throw DataError(file.string() + ": no deploy manifest; write the folder with `mqbench deploy` or `mqbench ptq`");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const std::exception& e) {
    throw DataError(file.string() + ": not valid JSON: " + e.what());
  }
  if (j.value("format", "") != kDeployManifestFormat)
    throw DataError(file.string() + ": not a '" + std::string(kDeployManifestFormat) + "' manifest");
  return j;
}

fs::path find_node() {
  const char* path = std::getenv("PATH");
  std::stringstream in(path ? path : "");
  std::string dir;
  while (std::getline(in, dir, ':')) {
    const fs::path p = fs::path(dir.empty() ? "." : dir) / "node";
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) return p;
  }
  throw Error("verify: `node` (Node.js) is not on PATH; run scripts/setup.sh, which installs it");
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string read_all(const fs::path& f) {
  std::ifstream in(f);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A private temporary folder, removed when the run ends.
struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("mqb_verify_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

at::Tensor run_onnx_runtime(const fs::path& onnx, const at::Tensor& inputs, const VerifyOptions& o) {
  const fs::path script = o.ort_script.empty() ? default_ort_script() : o.ort_script;
  if (!fs::is_regular_file(script)) throw Error("verify: the ONNX Runtime client " + script.string() + " is missing");
  if (!fs::is_directory(script.parent_path() / "node_modules" / "onnxruntime-node"))
    throw Error("verify: onnxruntime-node is not installed in " + (script.parent_path() / "node_modules").string() +
                "; run scripts/setup.sh");
  const fs::path node = find_node();
  TempDir tmp;
  const fs::path in = tmp.path / "inputs.npy", out = tmp.path / "outputs.npy", err = tmp.path / "stderr.txt";
  write_npy(in, inputs.to(at::kFloat).contiguous());
  static const std::set<std::string> levels = {"all", "extended", "basic", "disabled"};
  if (!levels.count(o.ort_optimization))
    throw Error("verify: ONNX Runtime optimization level '" + o.ort_optimization +
                "' is not one of all, extended, basic, disabled");
  const std::string cmd = "MQB_ORT_OPT=" + o.ort_optimization + " " + quote(node.string()) + " " + quote(script.string()) + " " + quote(onnx.string()) + " " +
                          quote(in.string()) + " " + quote(out.string()) + " " + std::to_string(o.batch_size) + " 2>" +
                          quote(err.string());
  const int rc = std::system(cmd.c_str());
  if (rc != 0) throw Error("verify: ONNX Runtime failed on " + onnx.string() + ": " + read_all(err));
  return read_npy(out);
}

namespace {

at::Tensor run_torchscript(const fs::path& file, const at::Tensor& inputs, int64_t batch) {
  torch::jit::Module m = prep::load_torchscript(file);
  m.eval();
  at::NoGradGuard ng;
  std::vector<at::Tensor> outs;
  for (int64_t b = 0; b < inputs.size(0); b += batch)
    outs.push_back(m.forward({inputs.slice(0, b, std::min(b + batch, inputs.size(0)))}).toTensor());
  return at::cat(outs, 0);
}

double top1(const at::Tensor& logits, const at::Tensor& labels) {
  if (!labels.defined()) return std::numeric_limits<double>::quiet_NaN();
  return 100.0 * at::eq(logits.argmax(1), labels).sum().item<double>() / static_cast<double>(labels.size(0));
}

}  // namespace

fs::path default_ort_script() {
  if (const char* env = std::getenv("MQB_ORT_SCRIPT"); env && *env) return env;
  return fs::path(MQB_SOURCE_ROOT) / "scripts" / "ort" / "run_onnx.js";
}

std::vector<fs::path> find_deploy_dirs(const fs::path& dir) {
  if (fs::is_regular_file(dir / kDeployManifest)) return {dir};
  std::vector<fs::path> out;
  std::error_code ec;
  if (fs::is_directory(dir, ec))
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_directory() && fs::is_regular_file(e.path() / kDeployManifest)) out.push_back(e.path());
  // ptq's layout: <out>/<config>/deploy/deploy.json
  if (out.empty() && fs::is_directory(dir, ec))
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_directory() && fs::is_regular_file(e.path() / "deploy" / kDeployManifest))
        out.push_back(e.path() / "deploy");
  if (out.empty())
    throw DataError(dir.string() + ": no deploy folder (a folder with " + kDeployManifest +
                    ", or sub-folders holding one); write one with `mqbench deploy` or `mqbench ptq`");
  std::sort(out.begin(), out.end());
  return out;
}

// The quantized ONNX models of a manifest: the QDQ model, then QLinear ones. Manifests
// written before "onnx_models" existed list only qdq_onnx.
std::vector<std::pair<std::string, std::string>> runnable_models(const nlohmann::json& m) {
  std::vector<std::pair<std::string, std::string>> out{{m.at("qdq_onnx").get<std::string>(), "qdq"}};
  for (const auto& e : m.value("onnx_models", nlohmann::json::array()))
    if (e.value("form", "") == "qlinear") out.emplace_back(e.at("file").get<std::string>(), "qlinear");
  return out;
}

std::vector<VerifyResult> verify_deployed(const fs::path& dir, const LabeledData& data, const VerifyOptions& options) {
  const nlohmann::json m = read_manifest(dir);
  const std::string backend = m.value("backend", "");
  if (m.at("qdq_onnx").is_null() || m.at("torchscript").is_null())
    throw ModelError(dir.string() + ": " + backend +
                     " deploys without a QDQ ONNX / TorchScript model (log-domain sites), so there is nothing to run in "
                     "ONNX Runtime");
  if (data.size() == 0) throw DataError("verify: the data set is empty");
  const at::Tensor sim = run_torchscript(dir / m.at("torchscript").get<std::string>(), data.inputs, options.batch_size)
                             .to(at::kFloat);
  double step = 0;
  for (const auto& s : m.at("sites"))
    if (!s.at("is_weight").get<bool>()) step = s.at("scale").at(0).get<double>();
  std::vector<VerifyResult> results;
  for (const auto& [file, form] : runnable_models(m)) {
    VerifyResult r;
    r.dir = dir;
    r.backend = backend;
    r.onnx = file;
    r.form = form;
    r.images = data.size();
    const at::Tensor ort = run_onnx_runtime(dir / file, data.inputs, options).to(at::kFloat);
    if (ort.sizes() != sim.sizes()) {
      std::ostringstream s;
      s << "verify: ONNX Runtime's output shape " << ort.sizes() << " for " << file << " differs from the TorchScript's "
        << sim.sizes();
      throw ModelError(s.str());
    }
    r.sim_top1 = top1(sim, data.labels);
    r.ort_top1 = top1(ort, data.labels);
    r.agreement = 100.0 * at::eq(ort.argmax(1), sim.argmax(1)).sum().item<double>() / static_cast<double>(r.images);
    r.max_abs_diff = at::abs(ort.sub(sim)).max().item<double>();
    r.step = step;
    r.max_diff_steps = r.step > 0 ? r.max_abs_diff / r.step : std::numeric_limits<double>::quiet_NaN();
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace mqb
