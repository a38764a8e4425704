// The reference models and their training (see mqb/host/reference_models.h). The
// modules are assembled from TorchScript source with torch.nn type names, so BN
// folding and every TorchScript consumer see what torch.jit.script would produce.
#include "mqb/host/reference_models.h"

#include <ATen/ops/randperm.h>
#include <torch/csrc/autograd/generated/variable_factories.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/script.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <sstream>

#include "mqb/host/sgd.h"
#include "mqb/host/evaluate.h"
#include "mqb/host/progress.h"

namespace fs = std::filesystem;
using torch::jit::Module;

namespace mqb {

namespace {

// Builds modules with torch.nn's qualified type names and initialisations.
class ModuleBuilder {
 public:
  Module make(const std::string& qualified_name) {
    Module m(c10::QualifiedName(qualified_name), cu_, /*shouldMangle=*/true);
    m.register_attribute("training", c10::BoolType::get(), true);
    return m;
  }

  // nn.Conv2d (with bias, Kaiming-normal weights as for ReLU networks).
  Module conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad) {
    Module m = make("__torch__.torch.nn.modules.conv.Conv2d");
    m.register_parameter("weight", torch::randn({out, in, k, k}).mul(std::sqrt(2.0 / (in * k * k))), false);
    m.register_parameter("bias", torch::zeros({out}), false);
    std::ostringstream src;
    src << "def forward(self, input):\n  return torch.conv2d(input, self.weight, self.bias, [" << stride << ", "
        << stride << "], [" << pad << ", " << pad << "], [1, 1], 1)\n";
    m.define(src.str());
    return m;
  }

  // nn.BatchNorm2d (affine, running statistics, momentum 0.1, eps 1e-5).
  Module batch_norm(int64_t channels) {
    Module m = make("__torch__.torch.nn.modules.batchnorm.BatchNorm2d");
    m.register_parameter("weight", torch::ones({channels}), false);
    m.register_parameter("bias", torch::zeros({channels}), false);
    m.register_buffer("running_mean", torch::zeros({channels}));
    m.register_buffer("running_var", torch::ones({channels}));
    m.register_attribute("eps", c10::FloatType::get(), 1e-5);
    m.register_attribute("momentum", c10::FloatType::get(), 0.1);
    m.define(
        "def forward(self, input):\n  return torch.batch_norm(input, self.weight, self.bias, self.running_mean, "
        "self.running_var, self.training, self.momentum, self.eps, True)\n");
    return m;
  }

  // nn.Linear (uniform(-1/sqrt(in), 1/sqrt(in)) as torch's default).
  Module linear(int64_t in, int64_t out) {
    Module m = make("__torch__.torch.nn.modules.linear.Linear");
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    m.register_parameter("weight", torch::rand({out, in}).mul(2 * bound).sub(bound), false);
    m.register_parameter("bias", torch::rand({out}).mul(2 * bound).sub(bound), false);
    m.define("def forward(self, input):\n  return torch.linear(input, self.weight, self.bias)\n");
    return m;
  }

  // A ResNet basic block: conv-bn-relu-conv-bn, plus a 1x1 conv-bn projection when the
  // shape changes, then add and relu.
  Module basic_block(int64_t in, int64_t out, int64_t stride) {
    Module m = make("__torch__.BasicBlock");
    m.register_module("conv1", conv(in, out, 3, stride, 1));
    m.register_module("bn1", batch_norm(out));
    m.register_module("conv2", conv(out, out, 3, 1, 1));
    m.register_module("bn2", batch_norm(out));
    const bool project = stride != 1 || in != out;
    if (project) {
      m.register_module("downsample_conv", conv(in, out, 1, stride, 0));
      m.register_module("downsample_bn", batch_norm(out));
    }
    m.define(std::string("def forward(self, x):\n"
                         "  out = torch.relu(self.bn1.forward(self.conv1.forward(x)))\n"
                         "  out = self.bn2.forward(self.conv2.forward(out))\n") +
             (project ? "  identity = self.downsample_bn.forward(self.downsample_conv.forward(x))\n"
                      : "  identity = x\n") +
             "  return torch.relu(out + identity)\n");
    return m;
  }

 private:
  std::shared_ptr<torch::jit::CompilationUnit> cu_ = std::make_shared<torch::jit::CompilationUnit>();
};

Module small_cnn(ModuleBuilder& b) {
  Module m = b.make("__torch__.SmallCNN");
  m.register_module("conv1", b.conv(1, 16, 3, 1, 1));
  m.register_module("bn1", b.batch_norm(16));
  m.register_module("conv2", b.conv(16, 32, 3, 1, 1));
  m.register_module("bn2", b.batch_norm(32));
  m.register_module("fc1", b.linear(32 * 7 * 7, 64));
  m.register_module("fc2", b.linear(64, 10));
  m.define(
      "def forward(self, x):\n"
      "  x = torch.relu(self.bn1.forward(self.conv1.forward(x)))\n"
      "  x = torch.max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1], False)\n"
      "  x = torch.relu(self.bn2.forward(self.conv2.forward(x)))\n"
      "  x = torch.max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1], False)\n"
      "  x = torch.flatten(x, 1)\n"
      "  x = torch.relu(self.fc1.forward(x))\n"
      "  return self.fc2.forward(x)\n");
  return m;
}

Module resnet_mini(ModuleBuilder& b) {
  Module m = b.make("__torch__.ResNetMini");
  m.register_module("conv1", b.conv(1, 8, 3, 1, 1));
  m.register_module("bn1", b.batch_norm(8));
  m.register_module("layer1", b.basic_block(8, 8, 1));
  m.register_module("layer2", b.basic_block(8, 16, 2));
  m.register_module("layer3", b.basic_block(16, 32, 2));
  m.register_module("fc", b.linear(32, 10));
  m.define(
      "def forward(self, x):\n"
      "  x = torch.relu(self.bn1.forward(self.conv1.forward(x)))\n"
      "  x = self.layer3.forward(self.layer2.forward(self.layer1.forward(x)))\n"
      "  x = torch.adaptive_avg_pool2d(x, [1, 1])\n"
      "  x = torch.flatten(x, 1)\n"
      "  return self.fc.forward(x)\n");
  return m;
}

Module build(const std::string& name, uint64_t seed) {
  torch::manual_seed(seed);
  ModuleBuilder b;
  if (name == "small_cnn") return small_cnn(b);
  if (name == "resnet_mini") return resnet_mini(b);
  std::string names;
  for (const auto& n : reference_model_names()) names += (names.empty() ? "" : ", ") + n;
  throw ConfigError("unknown reference model '" + name + "'; accepted: " + names);
}

double accuracy(Module& m, const LabeledData& data, int64_t batch_size, bool quiet) {
  m.eval();
  return top1_accuracy(data, batch_size, quiet, "evaluate",
                       [&](const at::Tensor& x) { return m.forward({x}).toTensor(); });
}

// Writes in eval mode through a temporary file and a rename (never a half-written model).
void save_module(Module& m, const fs::path& out) {
  m.eval();
  const fs::path tmp = out.string() + ".tmp-" + std::to_string(::getpid());
  try {
    m.save(tmp.string());
  } catch (const c10::Error& e) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw DataError(out.string() + ": cannot write the model: " + std::string(e.what()).substr(0, 200));
  }
  fs::rename(tmp, out);
}

}  // namespace

void save_untrained_reference_model(const std::string& name, uint64_t seed, const fs::path& out) {
  Module m = build(name, seed);
  save_module(m, out);
}

std::vector<std::string> reference_model_names() { return {"small_cnn", "resnet_mini"}; }

at::Tensor normalize_fashion_mnist(const at::Tensor& images) { return images.sub(0.2860).div(0.3530); }

fs::path reference_model_path(const std::string& name) { return cache_dir() / "models" / (name + ".pt"); }

WorkflowData load_workflow_data(const fs::path& folder, bool with_train) {
  WorkflowData d;
  if (!folder.empty()) {
    d.train = d.eval = load_tensor_folder(folder);
    return d;
  }
  if (with_train) {
    d.train = load_fashion_mnist(Split::Train);
    d.train.inputs = normalize_fashion_mnist(d.train.inputs);
  }
  d.eval = load_fashion_mnist(Split::Test);
  d.eval.inputs = normalize_fashion_mnist(d.eval.inputs);
  return d;
}

TrainResult train_reference_model(const TrainOptions& o, const fs::path& out) {
  if (o.epochs < 1) throw ConfigError("--epochs must be at least 1 (got " + std::to_string(o.epochs) + ")");
  if (o.batch_size < 1) throw ConfigError("--batch-size must be at least 1");
  const auto start = std::chrono::steady_clock::now();
  Module m = build(o.model, o.seed);
  const WorkflowData data = load_workflow_data();
  const LabeledData& train = data.train;
  const LabeledData& test = data.eval;
  const int64_t n = o.train_limit > 0 ? std::min<int64_t>(o.train_limit, train.size()) : train.size();

  std::vector<at::Tensor> params;
  for (const auto& p : m.parameters()) {
    p.set_requires_grad(true);
    params.push_back(p);
  }
  Sgd sgd(params, std::vector<bool>(params.size(), true), 0.9, o.weight_decay);
  const int64_t steps_per_epoch = (n + o.batch_size - 1) / o.batch_size;
  const int64_t total = steps_per_epoch * o.epochs;
  auto gen = at::detail::createCPUGenerator(o.seed);
  TrainResult result;
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    m.train();
    at::Tensor order = at::randperm(n, gen, at::kLong);
    Progress progress("train " + o.model + " epoch " + std::to_string(epoch + 1) + "/" + std::to_string(o.epochs),
                      steps_per_epoch, "batch", o.quiet);
    train_epoch(train, order, o.batch_size, sgd, o.lr, result.steps, total, progress,
                [&](const at::Tensor& x) { return m.forward({x}).toTensor(); });
  }
  for (auto& p : params) p.set_requires_grad(false);
  result.test_accuracy = accuracy(m, test, 1000, o.quiet);
  save_module(m, out);
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

double evaluate_torchscript(const fs::path& model, const LabeledData& data, int64_t batch_size, bool quiet) {
  if (!data.labels.defined()) throw DataError("evaluation needs labels (labels.npy beside inputs.npy)");
  Module m;
  try {
    m = torch::jit::load(model.string());
  } catch (const c10::Error& e) {
    const std::string why = e.what();
    throw ModelError(model.string() + ": not a TorchScript model (" + why.substr(0, why.find('\n')) + ")");
  }
  try {
    return accuracy(m, data, batch_size, quiet);
  } catch (const c10::Error& e) {
    const std::string why = e.what();
    throw ModelError(model.string() + ": forward failed on inputs of shape " +
                     c10::str(data.inputs.sizes()) + ": " + why.substr(0, why.find('\n')));
  }
}

}  // namespace mqb
