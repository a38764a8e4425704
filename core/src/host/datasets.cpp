// Data sets (see mqb/host/datasets.h).
#include "mqb/host/datasets.h"

#include <ATen/ops/cat.h>
#include <torch/data/datasets/mnist.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "mqb/host/tensor_io.h"

namespace fs = std::filesystem;

namespace mqb {

namespace {

const char* kFiles[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                        "t10k-labels-idx1-ubyte"};

// Decompresses `gz` to `out` through a temporary file, so an interrupted run never
// leaves a truncated cache entry.
void gunzip(const fs::path& gz, const fs::path& out) {
  gzFile in = gzopen(gz.c_str(), "rb");
  if (!in) throw DataError(gz.string() + ": cannot open");
  const fs::path tmp = out.string() + ".tmp-" + std::to_string(::getpid());
  std::ofstream o(tmp, std::ios::binary | std::ios::trunc);
  if (!o) {
    gzclose(in);
    throw DataError(out.string() + ": cannot write to the cache (set MQB_CACHE_DIR to a writable folder)");
  }
  std::vector<char> buf(1 << 20);
  int n = 0;
  while ((n = gzread(in, buf.data(), static_cast<unsigned>(buf.size()))) > 0) o.write(buf.data(), n);
  const bool failed = n < 0 || !o;
  gzclose(in);
  o.close();
  if (failed) {
    fs::remove(tmp);
    throw DataError(gz.string() + ": corrupt gzip data (reinstall dataset-fashion-mnist)");
  }
  fs::rename(tmp, out);
}

}  // namespace

fs::path fashion_mnist_package_dir() {
  if (const char* env = std::getenv("MQB_FASHION_MNIST_DIR")) return env;
  return "/usr/share/datasets/fashion-mnist";
}

fs::path cache_dir() {
  if (const char* env = std::getenv("MQB_CACHE_DIR")) return env;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME")) return fs::path(xdg) / "mqbench";
  const char* home = std::getenv("HOME");
  return fs::path(home ? home : "/tmp") / ".cache" / "mqbench";
}

LabeledData load_fashion_mnist(Split split) {
  const fs::path src = fashion_mnist_package_dir();
  const fs::path dst = cache_dir() / "fashion-mnist";
  std::error_code ec;
  fs::create_directories(dst, ec);
  if (ec) throw DataError(dst.string() + ": cannot create the cache folder: " + ec.message());
  for (const char* f : kFiles) {
    if (fs::exists(dst / f)) continue;
    const fs::path gz = src / (std::string(f) + ".gz");
    if (!fs::exists(gz))
      throw DataError("Fashion-MNIST not found: " + gz.string() +
                      " is missing; install Debian's package with `apt-get install dataset-fashion-mnist` "
                      "(or point MQB_FASHION_MNIST_DIR at a folder holding the four *-ubyte.gz files)");
    gunzip(gz, dst / f);
  }
  try {
    torch::data::datasets::MNIST ds(dst.string(), split == Split::Train ? torch::data::datasets::MNIST::Mode::kTrain
                                                                        : torch::data::datasets::MNIST::Mode::kTest);
    return {ds.images(), ds.targets()};
  } catch (const c10::Error& e) {
    std::string why = e.what();
    throw DataError("Fashion-MNIST in " + dst.string() + " is unreadable (" + why.substr(0, why.find('\n')) +
                    "); delete that folder to unpack it again");
  }
}

LabeledData load_tensor_folder(const fs::path& dir) {
  if (!fs::is_directory(dir)) throw DataError(dir.string() + ": not a folder (expected inputs.npy [+ labels.npy])");
  std::vector<fs::path> inputs;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string stem = e.path().stem().string(), ext = e.path().extension().string();
    if ((ext == ".npy" || ext == ".pt") && (stem == "inputs" || stem.rfind("inputs_", 0) == 0)) inputs.push_back(e.path());
  }
  std::sort(inputs.begin(), inputs.end());
  if (inputs.empty())
    throw DataError(dir.string() + ": no inputs.npy / inputs.pt (or inputs_<k>.npy files) in the folder");
  std::vector<at::Tensor> xs, ys;
  for (const auto& in : inputs) {
    at::Tensor x = read_tensor(in);
    if (x.dim() < 1 || x.size(0) == 0) throw DataError(in.string() + ": needs a leading batch dimension with data");
    xs.push_back(x.to(at::kFloat));
    const std::string suffix = in.stem().string().substr(6);  // "" or "_<k>"
    fs::path label;
    for (const char* ext : {".npy", ".pt"})
      if (fs::exists(dir / ("labels" + suffix + ext))) label = dir / ("labels" + suffix + ext);
    if (label.empty()) continue;
    at::Tensor y = read_tensor(label).reshape({-1}).to(at::kLong);
    if (y.size(0) != x.size(0))
      throw DataError(label.string() + ": " + std::to_string(y.size(0)) + " labels for " + std::to_string(x.size(0)) +
                      " inputs in " + in.filename().string());
    ys.push_back(y);
  }
  if (!ys.empty() && ys.size() != xs.size())
    throw DataError(dir.string() + ": some inputs files have labels and some do not");
  for (const auto& x : xs)
    if (x.sizes().slice(1) != xs.front().sizes().slice(1))
      throw DataError(dir.string() + ": inputs files disagree on the sample shape");
  LabeledData d;
  d.inputs = xs.size() == 1 ? xs.front() : at::cat(xs);
  if (!ys.empty()) d.labels = ys.size() == 1 ? ys.front() : at::cat(ys);
  return d;
}

}  // namespace mqb
