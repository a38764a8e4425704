// Accuracy of a prepared model (see mqb/host/evaluate.h).
#include "mqb/host/evaluate.h"

#include "mqb/host/progress.h"

namespace mqb {

double top1_accuracy(const LabeledData& data, int64_t batch_size, bool quiet, const std::string& label,
                     const BatchForward& forward) {
  if (!data.labels.defined()) throw DataError("evaluation needs labels");
  at::NoGradGuard no_grad;
  int64_t correct = 0;
  Progress progress(label, data.size(), "image", quiet);
  for (int64_t i = 0; i < data.size(); i += batch_size) {
    const int64_t n = std::min(batch_size, data.size() - i);
    correct += forward(data.inputs.narrow(0, i, n)).argmax(1).eq(data.labels.narrow(0, i, n)).sum().item<int64_t>();
    progress.advance(n);
  }
  progress.finish();
  return 100.0 * static_cast<double>(correct) / static_cast<double>(data.size());
}

double prepared_top1(PreparedModel& model, const LabeledData& data, int64_t batch_size, bool quiet,
                     const std::string& label) {
  return top1_accuracy(data, batch_size, quiet, label, [&](const at::Tensor& x) { return model.forward(x); });
}

}  // namespace mqb
