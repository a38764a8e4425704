// Reading and writing tensors for the tensor-lab commands and user data folders:
// NumPy .npy (float32/float64/int32/int64/uint8/bool, little-endian, C order) and
// tensors saved with Python's torch.save. Every failure is a DataError naming the
// file and what was wrong; writes go to a temporary file renamed into place, so no
// half-written output is ever left behind.
#pragma once
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <string>

#include "mqb/error.h"

namespace mqb {

// Reads by content: NumPy magic -> .npy, zip archive -> torch.save.
MQB_API at::Tensor read_tensor(const std::filesystem::path& file);
MQB_API at::Tensor read_npy(const std::filesystem::path& file);
MQB_API at::Tensor read_torch_saved(const std::filesystem::path& file);

MQB_API void write_npy(const std::filesystem::path& file, const at::Tensor& tensor);
// Writes text atomically (temporary file + rename).
MQB_API void write_text_file(const std::filesystem::path& file, const std::string& text);

}  // namespace mqb
