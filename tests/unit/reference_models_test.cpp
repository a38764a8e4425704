// Reference models: trainable, deterministic, foldable like torch.nn models, and
// loadable by stock PyTorch with identical outputs.
#include <gtest/gtest.h>

#include <ATen/ops/randn.h>
#include <cstdlib>
#include <torch/script.h>

#include "mqb/host/reference_models.h"
#include "mqb/host/tensor_io.h"

using namespace mqb;
namespace fs = std::filesystem;

namespace {
fs::path temp(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("mqb_models_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d / name;
}
}  // namespace

TEST(ReferenceModels, ShortTrainingBeatsChanceAndIsDeterministic) {
  TrainOptions o;
  o.train_limit = 2048;
  o.quiet = true;
  const TrainResult a = train_reference_model(o, temp("a.pt"));
  const TrainResult b = train_reference_model(o, temp("b.pt"));
  EXPECT_GT(a.test_accuracy, 55.0);  // 10 classes: chance is 10 %
  EXPECT_EQ(a.steps, 16);
  EXPECT_EQ(a.test_accuracy, b.test_accuracy);  // same seed, same model
  LabeledData test = load_fashion_mnist(Split::Test);
  test.inputs = normalize_fashion_mnist(test.inputs);
  EXPECT_EQ(evaluate_torchscript(temp("a.pt"), test), a.test_accuracy);
}

TEST(ReferenceModels, EveryModelRunsAndStockPyTorchAgrees) {
  for (const auto& name : reference_model_names()) {
    SCOPED_TRACE(name);
    TrainOptions o;
    o.model = name;
    o.train_limit = 256;
    o.quiet = true;
    const fs::path file = temp(name + ".pt");
    train_reference_model(o, file);
    torch::jit::Module m = torch::jit::load(file.string());
    m.eval();
    at::Tensor x = at::randn({4, 1, 28, 28});
    at::Tensor y = m.forward({x}).toTensor();
    ASSERT_EQ(y.sizes(), at::IntArrayRef({4, 10}));
    write_npy(temp("x.npy"), x);
    write_npy(temp("y.npy"), y);
    const std::string py = "/usr/bin/python3 -c 'import torch, numpy as np; m = torch.jit.load(\"" + file.string() +
                           "\").eval(); y = m(torch.from_numpy(np.load(\"" + temp("x.npy").string() +
                           "\"))).detach().numpy(); ref = np.load(\"" + temp("y.npy").string() +
                           "\"); assert np.abs(y - ref).max() < 1e-5, np.abs(y - ref).max()'";
    EXPECT_EQ(std::system(py.c_str()), 0);
  }
}

TEST(ReferenceModels, UnknownNamesAndBadOptionsAreRefused) {
  TrainOptions o;
  o.model = "vgg";
  EXPECT_THROW(train_reference_model(o, temp("x.pt")), ConfigError);
  o.model = "small_cnn";
  o.epochs = 0;
  EXPECT_THROW(train_reference_model(o, temp("x.pt")), ConfigError);
  EXPECT_THROW(evaluate_torchscript("/nonexistent.pt", LabeledData{at::randn({1, 1, 28, 28}), at::zeros({1}, at::kLong)}),
               ModelError);
}
