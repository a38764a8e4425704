// Every backend's deploy files: they exist, parse, and their numbers are the qparams
// (derived here from PreparedModel::qparams and the scheme, independently of the
// writers).
#include <ATen/ops/abs.h>
#include <gtest/gtest.h>

#include <cstring>
#include <sstream>

#include "deploy_support.h"
#include "mqb/host/verify.h"

namespace mqb::test {
namespace {

namespace fs = std::filesystem;

const std::vector<int64_t> kShape = {4, 3, 32, 32};

double scale_of(const PreparedModel& pm, const std::string& site, int64_t c = 0) {
  return static_cast<double>(pm.qparams(site).scale.flatten().to(at::kFloat)[c].item<float>());
}

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
