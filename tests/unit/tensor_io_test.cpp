// Tensor files: .npy written by hand to the NumPy format spec, files written and read
// by real NumPy / PyTorch (/usr/bin/python3), and every corrupt-input error.
#include <gtest/gtest.h>

#include <ATen/ops/arange.h>
#include <cstdlib>
#include <fstream>

#include "mqb/host/tensor_io.h"

using namespace mqb;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir() {
  static fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("mqb_tensor_io_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary) << bytes;
}

// A version-1.0 .npy: magic, version, little-endian header length, header, data.
std::string npy_bytes(const std::string& header_dict, const std::string& data) {
  std::string header = header_dict;
  while ((10 + header.size() + 1) % 64) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

std::string error_of(const fs::path& p) {
  try {
    read_tensor(p);
  } catch (const DataError& e) {
    return e.what();
  }
  return "(read)";
}

int python(const std::string& code) {
  const std::string cmd = "/usr/bin/python3 -c '" + code + "'";
  return std::system(cmd.c_str());
}

}  // namespace

TEST(TensorIO, ReadsAHandWrittenNpy) {
  const float values[] = {1.5f, -2.0f, 0.25f, 3.0f, -0.0f, 7.0f};
  const fs::path p = temp_dir() / "hand.npy";
  write_bytes(p, npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }",
                           std::string(reinterpret_cast<const char*>(values), sizeof(values))));
  at::Tensor t = read_tensor(p);
  ASSERT_EQ(t.sizes(), at::IntArrayRef({2, 3}));
  ASSERT_EQ(t.scalar_type(), at::kFloat);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(t.data_ptr<float>()[i], values[i]);
}

TEST(TensorIO, NumPyReadsWhatWeWriteAndWeReadWhatNumPyWrites) {
  const fs::path ours = temp_dir() / "ours.npy", theirs = temp_dir() / "theirs.npy";
  write_npy(ours, at::arange(24, at::kFloat).reshape({2, 3, 4}).div(8));
  ASSERT_EQ(python("import numpy as np; a = np.load(\"" + ours.string() +
                   "\"); assert a.dtype == np.float32 and a.shape == (2, 3, 4), a.shape; "
                   "assert (a == np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 8).all(); "
                   "np.save(\"" + theirs.string() + "\", np.arange(5, dtype=np.float64) - 2.5)"),
            0);
  at::Tensor t = read_tensor(theirs);
  ASSERT_EQ(t.scalar_type(), at::kDouble);
  ASSERT_EQ(t.numel(), 5);
  EXPECT_EQ(t.data_ptr<double>()[0], -2.5);
  EXPECT_EQ(t.data_ptr<double>()[4], 1.5);
  write_npy(ours, at::arange(3, at::kInt));  // 1-d shapes are written "(n,)"
  EXPECT_EQ(python("import numpy as np; a = np.load(\"" + ours.string() + "\"); assert a.shape == (3,) and a[2] == 2"), 0);
}

TEST(TensorIO, ReadsTorchSaveFiles) {
  const fs::path p = temp_dir() / "saved.pt";
  ASSERT_EQ(python("import torch; torch.save(torch.arange(6, dtype=torch.float32).reshape(3, 2) * 0.5, \"" +
                   p.string() + "\")"),
            0);
  at::Tensor t = read_tensor(p);
  ASSERT_EQ(t.sizes(), at::IntArrayRef({3, 2}));
  EXPECT_EQ(t.data_ptr<float>()[5], 2.5f);
  const fs::path dict = temp_dir() / "dict.pt";
  ASSERT_EQ(python("import torch; torch.save({\"a\": torch.ones(2)}, \"" + dict.string() + "\")"), 0);
  // A dict is not a tensor file: refused with the way to fix it.
  EXPECT_NE(error_of(dict).find("save one tensor per file"), std::string::npos) << error_of(dict);
}

TEST(TensorIO, CorruptInputsAreClearErrors) {
  const fs::path dir = temp_dir();
  EXPECT_NE(error_of(dir / "missing.npy").find("cannot open the tensor file"), std::string::npos);
  write_bytes(dir / "text.npy", "hello world, not a tensor");
  EXPECT_NE(error_of(dir / "text.npy").find("neither a NumPy .npy file nor a torch.save file"), std::string::npos);
  write_bytes(dir / "short.npy", npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", "abcd"));
  EXPECT_NE(error_of(dir / "short.npy").find(".npy data is 4 bytes, the header says 16 (truncated or corrupt file)"),
            std::string::npos)
      << error_of(dir / "short.npy");
  write_bytes(dir / "fortran.npy", npy_bytes("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", "abcd"));
  EXPECT_NE(error_of(dir / "fortran.npy").find("Fortran order"), std::string::npos);
  write_bytes(dir / "cplx.npy", npy_bytes("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", "abcdefgh"));
  EXPECT_NE(error_of(dir / "cplx.npy").find("dtype '<c8' is not supported"), std::string::npos);
  write_bytes(dir / "bad.pt", "PK\x03\x04 broken zip");
  EXPECT_NE(error_of(dir / "bad.pt").find("cannot read as a torch.save file"), std::string::npos) << error_of(dir / "bad.pt");
}

TEST(TensorIO, FailedWritesLeaveNoFile) {
  const fs::path target = temp_dir() / "no_such_dir" / "out.npy";
  EXPECT_THROW(write_npy(target, at::arange(3, at::kFloat)), DataError);
  EXPECT_FALSE(fs::exists(target));
  EXPECT_FALSE(fs::exists(target.string() + ".tmp-mqb"));
}
