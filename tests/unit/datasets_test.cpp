// Data sets: Fashion-MNIST from the Debian package, user tensor folders, and the
// errors for missing or inconsistent data.
#include <gtest/gtest.h>

#include <ATen/ops/arange.h>
#include <ATen/ops/bincount.h>
#include <ATen/ops/zeros.h>
#include <cstdlib>

#include "mqb/host/datasets.h"
#include "mqb/host/tensor_io.h"

using namespace mqb;
namespace fs = std::filesystem;

namespace {
fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("mqb_ds_" + std::to_string(::getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST(FashionMnist, TestSplitHasTenBalancedClassesOfNormalisedImages) {
  setenv("MQB_CACHE_DIR", fresh_dir("cache").c_str(), 1);
  LabeledData d = load_fashion_mnist(Split::Test);
  unsetenv("MQB_CACHE_DIR");
  ASSERT_EQ(d.inputs.sizes(), at::IntArrayRef({10000, 1, 28, 28}));
  ASSERT_EQ(d.labels.sizes(), at::IntArrayRef({10000}));
  EXPECT_GE(d.inputs.min().item<float>(), 0.0f);
  EXPECT_LE(d.inputs.max().item<float>(), 1.0f);
  // The published test set holds exactly 1000 images of each of the 10 classes.
  at::Tensor counts = at::bincount(d.labels);
  ASSERT_EQ(counts.numel(), 10);
  for (int c = 0; c < 10; ++c) EXPECT_EQ(counts[c].item<int64_t>(), 1000) << c;
}

TEST(FashionMnist, MissingPackageNamesItAndTheInstallCommand) {
  setenv("MQB_FASHION_MNIST_DIR", "/nonexistent/fashion", 1);
  setenv("MQB_CACHE_DIR", fresh_dir("empty_cache").c_str(), 1);
  const std::string e = error_of([] { load_fashion_mnist(Split::Train); });
  unsetenv("MQB_FASHION_MNIST_DIR");
  unsetenv("MQB_CACHE_DIR");
  EXPECT_NE(e.find("apt-get install dataset-fashion-mnist"), std::string::npos) << e;
  EXPECT_NE(e.find("/nonexistent/fashion/train-images-idx3-ubyte.gz is missing"), std::string::npos) << e;
}

TEST(TensorFolder, InputsWithLabelsInNameOrder) {
  const fs::path d = fresh_dir("folder");
  write_npy(d / "inputs_0.npy", at::arange(6, at::kFloat).reshape({2, 3}));
  write_npy(d / "labels_0.npy", at::arange(2, at::kLong));
  write_npy(d / "inputs_1.npy", at::arange(3, at::kFloat).reshape({1, 3}).add(10));
  write_npy(d / "labels_1.npy", at::arange(1, at::kInt).add(7));
  LabeledData data = load_tensor_folder(d);
  ASSERT_EQ(data.inputs.sizes(), at::IntArrayRef({3, 3}));
  EXPECT_EQ(data.inputs[2][0].item<float>(), 10.0f);
  EXPECT_EQ(data.labels[2].item<int64_t>(), 7);
}

TEST(TensorFolder, UnlabelledDataIsAllowedForCalibration) {
  const fs::path d = fresh_dir("calib");
  write_npy(d / "inputs.npy", at::zeros({4, 1, 2, 2}));
  LabeledData data = load_tensor_folder(d);
  EXPECT_EQ(data.size(), 4);
  EXPECT_FALSE(data.labels.defined());
}

TEST(TensorFolder, InconsistentFoldersAreRefused) {
  EXPECT_NE(error_of([] { load_tensor_folder("/nonexistent/data"); }).find("not a folder"), std::string::npos);
  const fs::path empty = fresh_dir("empty");
  EXPECT_NE(error_of([&] { load_tensor_folder(empty); }).find("no inputs.npy"), std::string::npos);
  const fs::path d = fresh_dir("mismatch");
  write_npy(d / "inputs.npy", at::zeros({4, 2}));
  write_npy(d / "labels.npy", at::zeros({3}, at::kLong));
  EXPECT_NE(error_of([&] { load_tensor_folder(d); }).find("3 labels for 4 inputs"), std::string::npos);
  const fs::path s = fresh_dir("shapes");
  write_npy(s / "inputs_0.npy", at::zeros({2, 2}));
  write_npy(s / "inputs_1.npy", at::zeros({2, 3}));
  EXPECT_NE(error_of([&] { load_tensor_folder(s); }).find("disagree on the sample shape"), std::string::npos);
}
