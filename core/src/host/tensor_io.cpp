// Tensor file formats (see mqb/host/tensor_io.h).
#include "mqb/host/tensor_io.h"

#include <ATen/ops/empty.h>
#include <torch/csrc/jit/serialization/pickle.h>

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

namespace fs = std::filesystem;

namespace mqb {

namespace {

std::vector<char> read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw DataError(file.string() + ": cannot open the tensor file (does it exist?)");
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

struct NpyType {
  const char* descr;
  at::ScalarType type;
};
const NpyType kNpyTypes[] = {{"<f4", at::kFloat}, {"<f8", at::kDouble}, {"<i4", at::kInt}, {"<i8", at::kLong},
                             {"|u1", at::kByte},  {"|b1", at::kBool}};

void write_atomic(const fs::path& file, const char* data, size_t size) {
  const fs::path tmp = file.string() + ".tmp-mqb";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw DataError(file.string() + ": cannot write (is the directory there and writable?)");
    out.write(data, static_cast<std::streamsize>(size));
    out.flush();
    if (!out) {
      out.close();
      std::error_code ec;
      fs::remove(tmp, ec);
      throw DataError(file.string() + ": write failed (disk full?)");
    }
  }
  std::error_code ec;
  fs::rename(tmp, file, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw DataError(file.string() + ": cannot move the finished file into place: " + ec.message());
  }
}

}  // namespace

at::Tensor read_npy(const fs::path& file) {
  const std::vector<char> bytes = read_all(file);
  const std::string name = file.string();
  if (bytes.size() < 10 || std::memcmp(bytes.data(), "\x93NUMPY", 6) != 0)
    throw DataError(name + ": not a NumPy .npy file (bad magic)");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw DataError(name + ": truncated .npy header");
    for (int i = 0; i < 4; ++i) header_len |= static_cast<size_t>(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
    offset = 12;
  } else {
    throw DataError(name + ": unsupported .npy version " + std::to_string(major));
  }
  if (offset + header_len > bytes.size()) throw DataError(name + ": truncated .npy header");
  const std::string header(bytes.data() + offset, header_len);
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr':\\s*'([^']*)'")))
    throw DataError(name + ": .npy header has no 'descr'");
  const std::string descr = m[1];
  const NpyType* type = nullptr;
  for (const auto& t : kNpyTypes)
    if (descr == t.descr) type = &t;
  if (!type)
    throw DataError(name + ": .npy dtype '" + descr +
                    "' is not supported; accepted: float32, float64, int32, int64, uint8, bool (little-endian)");
  if (std::regex_search(header, m, std::regex("'fortran_order':\\s*True")))
    throw DataError(name + ": .npy is in Fortran order; save it with np.ascontiguousarray first");
  if (!std::regex_search(header, m, std::regex("'shape':\\s*\\(([^)]*)\\)")))
    throw DataError(name + ": .npy header has no 'shape'");
  std::vector<int64_t> shape;
  std::stringstream dims(m[1].str());
  std::string item;
  while (std::getline(dims, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    if (item.find_first_not_of(" \t") == std::string::npos) continue;
    try {
      shape.push_back(std::stoll(item));
    } catch (const std::exception&) {
      throw DataError(name + ": bad .npy shape entry '" + item + "'");
    }
    if (shape.back() < 0) throw DataError(name + ": negative .npy dimension");
  }
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(type->type));
  const size_t payload = static_cast<size_t>(t.numel()) * t.element_size();
  const size_t data_start = offset + header_len;
  if (bytes.size() - data_start != payload)
    throw DataError(name + ": .npy data is " + std::to_string(bytes.size() - data_start) + " bytes, the header says " +
                    std::to_string(payload) + " (truncated or corrupt file)");
  if (payload) std::memcpy(t.data_ptr(), bytes.data() + data_start, payload);
  return t;
}

at::Tensor read_torch_saved(const fs::path& file) {
  const std::vector<char> bytes = read_all(file);
  c10::IValue value;
  try {
    value = torch::jit::pickle_load(bytes);
  } catch (const std::exception& e) {
    std::string why = e.what();
    why = why.substr(0, why.find('\n'));
    throw DataError(file.string() + ": cannot read as a torch.save file: " + why +
                    " (save one tensor per file: torch.save(tensor, path))");
  }
  if (!value.isTensor())
    throw DataError(file.string() + ": the torch.save file holds a " + value.tagKind() +
                    ", not a single tensor (save one tensor per file)");
  return value.toTensor();
}

at::Tensor read_tensor(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw DataError(file.string() + ": cannot open the tensor file (does it exist?)");
  char magic[6] = {};
  in.read(magic, 6);
  if (std::memcmp(magic, "\x93NUMPY", 6) == 0) return read_npy(file);
  if (magic[0] == 'P' && magic[1] == 'K') return read_torch_saved(file);
  throw DataError(file.string() + ": neither a NumPy .npy file nor a torch.save file");
}

void write_npy(const fs::path& file, const at::Tensor& tensor) {
  at::Tensor t = tensor.detach().contiguous();
  const char* descr = nullptr;
  for (const auto& k : kNpyTypes)
    if (k.type == t.scalar_type()) descr = k.descr;
  if (!descr) throw DataError(file.string() + ": cannot write dtype " + std::string(c10::toString(t.scalar_type())) + " as .npy");
  // NumPy's own spelling: "()", "(n,)", "(a, b)".
  std::string dims = "(";
  for (int64_t i = 0; i < t.dim(); ++i) dims += (i ? ", " : "") + std::to_string(t.size(i));
  dims += t.dim() == 1 ? ",)" : ")";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + dims + ", }";
  const size_t unpadded = 10 + header.size() + 1;
  header += std::string((64 - unpadded % 64) % 64, ' ') + "\n";
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  out.append(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel()) * t.element_size());
  write_atomic(file, out.data(), out.size());
}

void write_text_file(const fs::path& file, const std::string& text) { write_atomic(file, text.data(), text.size()); }

}  // namespace mqb
