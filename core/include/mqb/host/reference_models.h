// The project's own reference models for Fashion-MNIST, built in C++ as TorchScript
// modules whose submodules carry torch.nn's type names (Conv2d, BatchNorm2d, Linear),
// so they are exactly what torch.jit.script would give: BN folding, prepare and stock
// PyTorch treat them like any user model. Trained by `mqbench train`.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mqb/host/datasets.h"

namespace mqb {

// "small_cnn" (two conv-bn-relu-pool stages and a linear classifier) and "resnet_mini"
// (a ResNet-style stem, three basic blocks with BN and a projection shortcut, GAP, fc).
MQB_API std::vector<std::string> reference_model_names();

struct TrainOptions {
  std::string model = "small_cnn";
  int epochs = 1;
  int64_t batch_size = 128;
  double lr = 0.05;           // SGD, momentum 0.9, cosine decay to 0 over all steps
  double weight_decay = 5e-4;
  uint64_t seed = 0;
  int64_t train_limit = 0;    // use only the first N training images (0: all 60000)
  bool quiet = false;
};

struct TrainResult {
  double test_accuracy = 0;  // top-1 on the 10000 test images, in percent
  double seconds = 0;
  int64_t steps = 0;
};

// Builds the untrained model (deterministic for a seed) and trains it on Fashion-MNIST,
// then writes it with torch.jit's format (temporary file + rename).
MQB_API TrainResult train_reference_model(const TrainOptions& options, const std::filesystem::path& out);

// Writes the untrained model (deterministic for `seed`) in torch.jit's format: a real
// model for checks that need one but no training (`mqbench check-plugin` on backends).
MQB_API void save_untrained_reference_model(const std::string& name, uint64_t seed,
                                            const std::filesystem::path& out);

// Fashion-MNIST normalisation the reference models expect: (pixel/255 - 0.2860) / 0.3530.
MQB_API at::Tensor normalize_fashion_mnist(const at::Tensor& images);

// Where `mqbench train` caches a reference model by default: <cache>/models/<name>.pt.
MQB_API std::filesystem::path reference_model_path(const std::string& name = "small_cnn");

// The data a workflow runs on: Fashion-MNIST normalised for the reference models (train
// split to train/calibrate, test split to evaluate) or, given a folder, that folder's
// labelled tensors for both.
struct WorkflowData {
  LabeledData train;
  LabeledData eval;
};
// `with_train = false` skips the training split (evaluation only).
MQB_API WorkflowData load_workflow_data(const std::filesystem::path& folder = {}, bool with_train = true);

// Top-1 accuracy (percent) of a plain TorchScript model (float or deployed) on labelled data.
MQB_API double evaluate_torchscript(const std::filesystem::path& model, const LabeledData& data,
                                    int64_t batch_size = 1000, bool quiet = true);

}  // namespace mqb
