// Every backend's deploy files: they exist, parse, and their numbers are the qparams
// (derived here from PreparedModel::qparams and the scheme, independently of the
// writers).
#include <ATen/ops/abs.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <sstream>

#include "deploy_support.h"
#include "mqb/host/verify.h"

namespace mqb::test {
namespace {

namespace fs = std::filesystem;

const std::vector<int64_t> kShape = {4, 3, 32, 32};

// TensorRT: dynamic range = scale * 127 for the [-127, 127] grid; the calibration cache
// holds range / 127 as float32 bits in hex; the float ONNX model computes the float net.
TEST(BackendFiles, TensorrtRangesCacheAndFloatModel) {
  PreparedModel pm = calibrated("small_cnn_scripted", backend_fixed_toml("Tensorrt"), kShape);
  const fs::path dir = temp_dir("files_tensorrt");
  const DeployResult r = deploy_to(pm, dir, kShape);
  const auto ranges = read_json(dir / "model_clip_ranges.json").at("tensorrt").at("blob_range");
  std::map<std::string, std::string> cache;
  std::istringstream lines(read_text(dir / "model_calibration.cache"));
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line.rfind("TRT-", 0), 0u) << line;
  while (std::getline(lines, line)) cache[line.substr(0, line.find(": "))] = line.substr(line.find(": ") + 2);
  size_t activations = 0;
  for (const SiteInfo& s : pm.sites()) {
    if (s.kind == SiteKind::Weight) {
      EXPECT_FALSE(ranges.contains(s.name)) << s.name;
      continue;
    }
    ++activations;
    ASSERT_TRUE(ranges.contains(s.name)) << s.name;
    EXPECT_DOUBLE_EQ(ranges.at(s.name).get<double>(), scale_of(pm, s.name) * 127.0) << s.name;
    ASSERT_TRUE(cache.count(s.name)) << s.name;
    const uint32_t bits = static_cast<uint32_t>(std::stoul(cache.at(s.name), nullptr, 16));
    float f;
    std::memcpy(&f, &bits, sizeof f);
    EXPECT_FLOAT_EQ(f, static_cast<float>(scale_of(pm, s.name))) << s.name;
  }
  EXPECT_EQ(ranges.size(), activations);
  EXPECT_EQ(cache.size(), activations);

  const at::Tensor x = random_input({8, 3, 32, 32}, 5);
  const at::Tensor ref = pm.float_forward({x}).detach();
  const at::Tensor ort = run_onnx_runtime(dir / "model_deploy_model.onnx", x);
  EXPECT_LT(at::abs(ort.sub(ref)).max().item<double>(), 1e-3 * at::abs(ref).max().item<double>());
  EXPECT_EQ(read_json(r.manifest).at("files").size() + 1, r.files.size());  // all but the manifest itself
}

}  // namespace
}  // namespace mqb::test

namespace mqb::test {
namespace {

// ---- every backend at its defaults ------------------------------------------------
struct SiteTruth {  // from the prepared model, not from the deploy code
  std::vector<double> scale;
  std::vector<int64_t> zp;
  int64_t qmin = 0, qmax = 0;
  bool weight = false;
};

std::map<std::string, SiteTruth> truth(PreparedModel& pm) {
  std::map<std::string, SiteTruth> t;
  for (const SiteInfo& s : pm.sites()) {
    const QParams q = pm.qparams(s.name);
    SiteTruth v;
    const at::Tensor sc = q.scale.flatten().to(at::kFloat).to(at::kDouble);
    const at::Tensor zp = q.zero_point.flatten().to(at::kDouble).round();
    for (int64_t c = 0; c < sc.numel(); ++c) {
      v.scale.push_back(sc[c].item<double>());
      v.zp.push_back(static_cast<int64_t>(zp[c].item<double>()));
    }
    v.qmin = s.config.qscheme.quant_min();
    v.qmax = s.config.qscheme.quant_max();
    v.weight = s.kind == SiteKind::Weight;
    t[s.name] = v;
  }
  return t;
}

std::string config_for(const std::string& backend) {
  if (backend == "Academic" || backend == "Academic_NLP") return backend_fixed_toml(backend);
  return "backend = \"" + backend + "\"\n";  // the backend's own defaults
}

using Check = std::function<void(const fs::path& dir, PreparedModel& pm, const std::map<std::string, SiteTruth>& t)>;

void near(double a, double b, const std::string& what) { EXPECT_NEAR(a, b, 1e-9 * std::max(1.0, std::fabs(b))) << what; }

const std::map<std::string, std::pair<std::vector<std::string>, Check>>& backend_cases() {
  static const std::map<std::string, std::pair<std::vector<std::string>, Check>> cases = {
      {"SNPE",
       {{"model_deploy_model.onnx", "model_encodings.json"},
        [](const fs::path& dir, PreparedModel&, const std::map<std::string, SiteTruth>& t) {
          const auto j = read_json(dir / "model_encodings.json");
          for (const auto& [name, v] : t) {
            const auto& list = j.at(v.weight ? "param_encodings" : "activation_encodings").at(name);
            ASSERT_EQ(list.size(), v.scale.size()) << name;
            for (size_t c = 0; c < v.scale.size(); ++c) {
              near(list[c].at("scale"), v.scale[c], name);
              EXPECT_EQ(list[c].at("offset").get<int64_t>(), v.qmin - v.zp[c]) << name;
              near(list[c].at("min"), v.scale[c] * static_cast<double>(v.qmin - v.zp[c]), name);
              near(list[c].at("max"), v.scale[c] * static_cast<double>(v.qmax - v.zp[c]), name);
            }
          }
        }}},
      {"PPLW8A16",
       {{"model_deploy_model.onnx", "model_clip_ranges.json"},
        [](const fs::path& dir, PreparedModel&, const std::map<std::string, SiteTruth>& t) {
          const auto j = read_json(dir / "model_clip_ranges.json").at("ppl");
          EXPECT_EQ(j.size(), t.size());
          for (const auto& [name, v] : t) {
            const auto& e = j.at(name);
            const auto step = e.at("step");
            near(step.is_array() ? step[0].get<double>() : step.get<double>(), v.scale[0], name);
            EXPECT_EQ(e.at("bit").get<int>(), v.weight ? 8 : 16) << name;
          }
        }}},
      {"PPLCUDA",
       {{"model_deploy_model.onnx", "model_clip_ranges.json"},
        [](const fs::path& dir, PreparedModel&, const std::map<std::string, SiteTruth>& t) {
          const auto j = read_json(dir / "model_clip_ranges.json").at("ppl-cuda");
          for (const auto& [name, v] : t) {
            if (v.scale.size() != 1) continue;
            near(j.at(name), std::max(std::fabs(v.scale[0] * static_cast<double>(v.qmin - v.zp[0])),
                                      std::fabs(v.scale[0] * static_cast<double>(v.qmax - v.zp[0]))), name);
          }
        }}},
      {"Vitis",
       {{"model_deploy_model.onnx", "model_clip_ranges.json"},
        [](const fs::path& dir, PreparedModel&, const std::map<std::string, SiteTruth>& t) {
          const auto j = read_json(dir / "model_clip_ranges.json").at("vitis");
          EXPECT_EQ(j.size(), t.size());
          for (const auto& [name, v] : t)
            EXPECT_EQ(std::ldexp(1.0, -j.at(name).at("fix_point").get<int>()), v.scale[0]) << name;
        }}},
      {"STPU",
       {{"model_for_stpu.onnx", "model_stpu_minmax.json"},
        [](const fs::path& dir, PreparedModel&, const std::map<std::string, SiteTruth>& t) {
          // Activations by tensor; weights as "<node>_weights" (checked per node in
          // graph_files_test.cpp), never by their own name.
          const auto j = read_json(dir / "model_stpu_minmax.json");
          size_t weights = 0, weight_keys = 0;
          for (const auto& [name, v] : t) {
            if (v.weight) {
              ++weights;
              EXPECT_FALSE(j.contains(name)) << name;
              continue;
            }
            near(j.at(name).at("min"), v.scale[0] * static_cast<double>(v.qmin - v.zp[0]), name);
            near(j.at(name).at("max"), v.scale[0] * static_cast<double>(v.qmax - v.zp[0]), name);
          }
          for (const auto& [key, value] : j.items()) {
            const std::string suffix = "_weights";
            if (key.size() > suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0)
              ++weight_keys;
          }
          EXPECT_EQ(weight_keys, weights);
        }}},
      {"Tengine_u8",
       {{"model_for_tengine.onnx", "model_for_tengine.scale"},
        [](const fs::path& dir, PreparedModel&, const std::map<std::string, SiteTruth>& t) {
          // Lines of other tensors (conv outputs under a relu, propagated ranges) are
          // checked in graph_files_test.cpp.
          size_t site_lines = 0;
          for (const ScaleLine& l : read_scale_lines(dir / "model_for_tengine.scale")) {
            if (!t.count(l.name)) continue;
            ++site_lines;
            EXPECT_NEAR(l.scale, t.at(l.name).scale[0], 1e-8 * t.at(l.name).scale[0]) << l.name;
            EXPECT_EQ(l.zero_point, t.at(l.name).zp[0]) << l.name;
          }
          EXPECT_EQ(site_lines, t.size());  // every Tengine site is per tensor
        }}},
      {"OPENVINO",
       {{"model_fakequantize.json"},
        [](const fs::path& dir, PreparedModel&, const std::map<std::string, SiteTruth>& t) {
          const auto j = read_json(dir / "model_fakequantize.json");
          for (const auto& [name, v] : t) {
            const auto& e = j.at(name);
            EXPECT_EQ(e.at("levels").get<int64_t>(), v.qmax - v.qmin + 1) << name;
            ASSERT_EQ(e.at("input_low").size(), v.scale.size()) << name;
            for (size_t c = 0; c < v.scale.size(); ++c)
              near(e.at("input_high")[c], v.scale[c] * static_cast<double>(v.qmax - v.zp[c]), name);
            if (v.scale.size() > 1) {
              EXPECT_EQ(e.at("shape"), nlohmann::json({static_cast<int64_t>(v.scale.size()), 1, 1, 1})) << name;
            }
          }
        }}},
      {"Tensorrt_NLP", {{"model_deploy_model.onnx", "model_clip_ranges.json", "model_calibration.cache"}, nullptr}},
      {"QDQ", {{}, nullptr}},
      {"Academic", {{}, nullptr}},
      {"Academic_NLP", {{}, nullptr}},
      {"ONNX_QNN", {{"model_qlinear.onnx"}, nullptr}},  // its content: qlinear_form_test.cpp
  };
  return cases;
}

// Each backend at its defaults: its files exist and parse, numbers are the qparams,
// and the QDQ model runs in ONNX Runtime like the simulation.
TEST(BackendFiles, EveryBackendWritesItsFilesAndTheyMatchTheQparams) {
  for (const auto& [backend, c] : backend_cases()) {
    SCOPED_TRACE(backend);
    PreparedModel pm = calibrated("small_cnn_scripted", config_for(backend), kShape);
    const fs::path dir = temp_dir("files_" + backend);
    const DeployResult r = deploy_to(pm, dir, kShape);
    for (const std::string& f : c.first) EXPECT_TRUE(fs::exists(dir / f)) << f;
    EXPECT_EQ(read_json(r.manifest).at("files").size(), c.first.size() + 2);  // + deployed.pt and the QDQ model
    if (c.second) c.second(dir, pm, truth(pm));
    const at::Tensor x = random_input({8, 3, 32, 32}, 11);
    const at::Tensor ours = pm.forward(x).detach();
    EXPECT_GT(sqnr_db(ours, run_onnx_runtime(r.qdq_onnx, x)), 40.0);
  }
}

// NNIE: no QDQ model or TorchScript (log-domain codes); the float model and data_max per layer.
TEST(BackendFiles, NnieWritesDataMaxPerLayerAndNoQdqModel) {
  PreparedModel pm = calibrated("small_cnn_scripted", backend_fixed_toml("NNIE"), kShape);
  const fs::path dir = temp_dir("files_nnie");
  const DeployResult r = deploy_to(pm, dir, kShape);
  EXPECT_FALSE(fs::exists(dir / "model_qdq.onnx"));
  EXPECT_FALSE(fs::exists(dir / "deployed.pt"));
  EXPECT_TRUE(read_json(r.manifest).at("qdq_onnx").is_null());
  const auto layers = read_json(dir / "model_gfpq_param_dict.json").at("nnie").at("gfpq_param_dict");
  size_t inputs = 0;
  for (const SiteInfo& s : pm.sites()) {
    if (s.kind == SiteKind::Weight) continue;
    const std::string layer = s.name.substr(0, s.name.rfind(".input"));
    const double data_max = static_cast<double>(pm.quantizer(s.name).state().at("data_max").item<float>());
    ASSERT_TRUE(layers.contains(layer)) << layer;
    bool found = false;
    for (const auto& v : layers.at(layer)) found = found || v.get<double>() == data_max;
    EXPECT_TRUE(found) << s.name;
    ++inputs;
  }
  EXPECT_GT(inputs, 0u);
  const at::Tensor x = random_input({8, 3, 32, 32}, 5);
  const at::Tensor ref = pm.float_forward({x}).detach();
  EXPECT_GT(sqnr_db(ref, run_onnx_runtime(dir / "model_deploy_model.onnx", x)), 30.0);  // weights clipped only
}

}  // namespace
}  // namespace mqb::test
