// Labelled data for calibration and evaluation: Fashion-MNIST from Debian's
// dataset-fashion-mnist package (the default), or a user folder of tensor files.
#pragma once
#include <ATen/core/Tensor.h>

#include <filesystem>

#include "mqb/error.h"

namespace mqb {

struct LabeledData {
  at::Tensor inputs;  // float32 [N, ...]
  at::Tensor labels;  // int64 [N], undefined when the data has no labels
  int64_t size() const { return inputs.defined() ? inputs.size(0) : 0; }
};

enum class Split { Train, Test };

// Where the package puts the gz IDX files; MQB_FASHION_MNIST_DIR overrides it.
MQB_API std::filesystem::path fashion_mnist_package_dir();
// The cache the unpacked files live in: $MQB_CACHE_DIR, else $XDG_CACHE_HOME/mqbench,
// else ~/.cache/mqbench.
MQB_API std::filesystem::path cache_dir();

// Fashion-MNIST as [N, 1, 28, 28] float32 in [0, 1] (pixel / 255) with int64 labels.
// Unpacks the package's gz files into the cache on first use. A missing package is a
// DataError that names it and the command that installs it.
MQB_API LabeledData load_fashion_mnist(Split split);

// A user data folder: `inputs.npy` (or `.pt`) with optional `labels.npy`, or several
// pairs `inputs_<k>` / `labels_<k>` concatenated in name order.
MQB_API LabeledData load_tensor_folder(const std::filesystem::path& dir);

}  // namespace mqb
