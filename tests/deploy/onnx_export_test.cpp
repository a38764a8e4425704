// ONNX export: the QDQ models of the generated test models (scripted and traced) run
// in ONNX Runtime and reproduce the simulation; grids narrower than int8 survive; an
// op outside the supported set is an error naming it and where it is.
#include <ATen/ops/abs.h>
#include <ATen/ops/argmax.h>
#include <ATen/ops/eq.h>
#include <gtest/gtest.h>

#include <set>

#include "deploy_support.h"
#include "mqb/host/verify.h"

namespace mqb::test {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string model;
  std::vector<int64_t> shape;
  double min_sqnr_db = 45.0;
};

// Runs the deploy's QDQ model in ONNX Runtime and the prepared model here on the same
// random batch. Both compute round(x / s) on float32: ORT divides, ATen multiplies by
// 1/s, so a value within an ulp of a rounding boundary may land one code apart. Such
// flips are rare and move an output by a few of the last layer's input steps.
void expect_ort_matches(PreparedModel& pm, const std::string& name, const std::vector<int64_t>& shape,
                        double min_sqnr_db = 45.0) {
  const fs::path dir = temp_dir("onnx_" + name);
  const DeployResult r = deploy_to(pm, dir, shape);
  std::vector<int64_t> big = shape;
  big[0] = 32;
  const at::Tensor x = random_input(big, 4242);
  const at::Tensor ours = pm.forward(x).detach();
  const at::Tensor theirs = run_onnx_runtime(r.qdq_onnx, x);
  ASSERT_EQ(theirs.sizes(), ours.sizes()) << name;
  const double diff = at::abs(theirs.sub(ours)).max().item<double>();
  const double mag = at::abs(ours).max().item<double>();
  const double agree = at::eq(theirs.argmax(-1), ours.argmax(-1)).to(at::kDouble).mean().item<double>();
  // A wrong op or qparam costs far more than rare one-code flips: on the small nets those
  // keep the outputs above 45 dB apart from each other; through the 20 untrained layers of
  // ResNet-18 (random weights and BN statistics) the flips compound to about 30 dB.
  const double sqnr = sqnr_db(ours, theirs);
  EXPECT_GT(sqnr, min_sqnr_db) << name << ": max |ORT - simulation| = " << diff << " of " << mag;
  EXPECT_GE(agree, 0.95) << name;
  std::printf("[ onnx ] %-26s sites %3zu  max|diff| %.3g (of %.3g)  SQNR %.1f dB  argmax agreement %.3f\n",
              name.c_str(), r.sites.size(), diff, mag, sqnr, agree);
}

TEST(OnnxExport, QdqModelsInOnnxRuntimeMatchTheSimulation) {
  const std::vector<Case> cases = {{"small_cnn_scripted", {4, 3, 32, 32}},     {"small_cnn_traced", {4, 3, 32, 32}},
                                   {"concat_upsample_scripted", {4, 3, 32, 32}}, {"concat_upsample_traced", {4, 3, 32, 32}},
                                   {"resnet18_traced", {2, 3, 64, 64}, 25.0},   {"mobilenet_v2_scripted", {2, 3, 64, 64}, 35.0}};
  for (const Case& c : cases) {
    PreparedModel pm = calibrated(c.model, backend_fixed_toml("Tensorrt"), c.shape);
    expect_ort_matches(pm, c.model, c.shape, c.min_sqnr_db);
  }
}

// Academic keeps BN unfolded (BatchNormalization in ONNX) and 4-bit weights need the
// integer Clip between QuantizeLinear and DequantizeLinear.
TEST(OnnxExport, FourBitWeightsAndUnfoldedBatchNorm) {
  PreparedModel pm = calibrated("small_cnn_scripted", academic_fixed_toml(4, 8), {4, 3, 32, 32});
  expect_ort_matches(pm, "small_cnn_w4a8", {4, 3, 32, 32});
  const std::string bytes = read_text(temp_dir("onnx_small_cnn_w4a8") + "/model_qdq.onnx");
  EXPECT_NE(bytes.find("BatchNormalization"), std::string::npos);
  EXPECT_NE(bytes.find("Clip"), std::string::npos);
}

// Without the Clip, a 4-bit site would saturate at int8's [-128, 127] in ONNX Runtime
// and not at [-8, 7]: values far outside the calibrated range show the difference.
TEST(OnnxExport, NarrowGridsSaturateAtTheirOwnBounds) {
  PreparedModel pm = calibrated("small_cnn_scripted", academic_fixed_toml(8, 4), {4, 3, 32, 32});
  const DeployResult r = deploy_to(pm, temp_dir("onnx_a4"), {4, 3, 32, 32});
  const at::Tensor x = random_input({8, 3, 32, 32}, 77).mul(20.0);  // far beyond calibration
  const at::Tensor ours = pm.forward(x).detach();
  const at::Tensor theirs = run_onnx_runtime(r.qdq_onnx, x);
  EXPECT_GT(sqnr_db(ours, theirs), 45.0);
}

TEST(OnnxExport, AnUnsupportedOpIsAnErrorNamingItAndWhereItIs) {
  PreparedModel pm = calibrated("odd_ops_scripted", backend_fixed_toml("Tensorrt"), {2, 3, 8, 8});
  const fs::path dir = temp_dir("onnx_odd_ops");
  try {
    deploy_to(pm, dir, {2, 3, 8, 8});
    FAIL() << "erfinv has no ONNX form and must be refused";
  } catch (const ModelError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("aten::erfinv"), std::string::npos) << what;
    EXPECT_NE(what.find("source line"), std::string::npos) << what;
  }
  EXPECT_FALSE(fs::exists(dir / "model_qdq.onnx"));  // nothing half-written
  EXPECT_FALSE(fs::exists(dir / "deploy.json"));
}

TEST(OnnxExport, ManifestListsEverySiteWithItsQparams) {
  PreparedModel pm = calibrated("small_cnn_scripted", backend_fixed_toml("Tensorrt"), {4, 3, 32, 32});
  const DeployResult r = deploy_to(pm, temp_dir("onnx_manifest"), {4, 3, 32, 32});
  const auto m = read_json(r.manifest);
  EXPECT_EQ(m.at("backend"), "Tensorrt");
  ASSERT_EQ(m.at("sites").size(), pm.sites().size());
  for (const auto& s : m.at("sites")) {
    const QParams q = pm.qparams(s.at("name"));
    const at::Tensor scale = q.scale.flatten().to(at::kFloat);
    ASSERT_EQ(s.at("scale").size(), static_cast<size_t>(scale.numel())) << s.at("name");
    for (int64_t c = 0; c < scale.numel(); ++c)
      EXPECT_EQ(s.at("scale")[c].get<double>(), static_cast<double>(scale[c].item<float>())) << s.at("name");
  }
}

// Scripted F.interpolate has an upsample (and, under an output-quantizing backend, a
// site) per input rank; only the 4-D branch runs. The manifest lists exactly the sites
// the graph runs, so every record names a tensor the ONNX files contain.
TEST(OnnxExport, ManifestListsOnlyTheSitesTheGraphRuns) {
  PreparedModel pm = calibrated("concat_upsample_scripted", backend_fixed_toml("STPU"), {4, 3, 32, 32});
  std::set<std::string> upsample_sites;
  for (const SiteInfo& s : pm.sites())
    if (s.op == "upsample" && s.reason == "output") upsample_sites.insert(s.name);
  ASSERT_EQ(upsample_sites.size(), 3u) << site_listing(pm);  // one per rank branch: 1-D, 2-D, 3-D
  const DeployResult r = deploy_to(pm, temp_dir("onnx_manifest_branches"), {4, 3, 32, 32});
  const std::string onnx = read_text(r.qdq_onnx);
  const auto manifest = read_json(r.manifest);
  std::set<std::string> listed;
  for (const auto& s : manifest.at("sites")) {
    listed.insert(s.at("name").get<std::string>());
    EXPECT_NE(onnx.find(s.at("tensor").get<std::string>()), std::string::npos) << s.at("name");
  }
  EXPECT_EQ(listed.size(), pm.sites().size() - 2);
  size_t upsample_listed = 0;
  for (const std::string& name : upsample_sites) upsample_listed += listed.count(name);
  EXPECT_EQ(upsample_listed, 1u);
}

}  // namespace
}  // namespace mqb::test
