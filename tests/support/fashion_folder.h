// A data folder for the commands' --data option in tests: the first `count` normalised
// images of a Fashion-MNIST split as inputs.npy and labels.npy, written once per folder.
#pragma once
#include <cstdint>
#include <filesystem>

#include "mqb/host/datasets.h"
#include "mqb/host/reference_models.h"
#include "mqb/host/tensor_io.h"

namespace mqb::test {

inline std::filesystem::path fashion_folder(const std::filesystem::path& dir, Split split, int64_t count) {
  if (std::filesystem::exists(dir / "labels.npy")) return dir;
  std::filesystem::create_directories(dir);
  const LabeledData data = load_fashion_mnist(split);
  write_npy(dir / "inputs.npy", normalize_fashion_mnist(data.inputs.narrow(0, 0, count)));
  write_npy(dir / "labels.npy", data.labels.narrow(0, 0, count));
  return dir;
}

}  // namespace mqb::test
