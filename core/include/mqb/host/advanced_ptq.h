// Advanced PTQ: AdaRound (layer-wise), BRECQ and QDrop (block-wise) reconstruction of a
// calibrated PreparedModel (MQBench's ptq_reconstruction, spec §5.8).
//
// How a part of the model is run: the prepared forward is one inlined graph. Its top-level
// nodes are cut into contiguous segments (one per layer or block, plus the glue between
// them); each segment becomes a graph function of its live-in values (constants and
// attribute reads are cloned in), so a block runs on its own on cached inputs, with the
// model's sites (and their quantizers) inside it. Running all segments in order is the
// whole forward.
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "mqb/host/config.h"
#include "mqb/host/prepared_model.h"

namespace mqb {

// One layer or block that reconstruction optimises.
struct ReconstructionUnit {
  std::string name;                       // "layer1", "conv1", "conv1+conv2+fc1"
  std::string kind;                       // "layer", "block" (residual scope), "layers" (stacked plain layers)
  std::vector<std::string> weight_sites;  // its AdaRound weights
  std::vector<std::string> activation_sites;
};

struct UnitResult {
  ReconstructionUnit unit;
  // Output error against float, mean over the cached batches of sum_dim1 (out - float)^2,
  // on the quantized inputs: with nearest rounding before, with learned hard rounding after.
  double error_before = 0, error_after = 0;
  double final_loss = 0;  // reconstruction + rounding loss of the last iteration
  int64_t iterations = 0;
  double seconds = 0;
};

struct ReconstructionReport {
  std::string method;  // "AdaRound", "BRECQ", "QDrop"
  std::vector<UnitResult> units;
  double seconds = 0;
};

// "AdaRound" (layer), "BRECQ" (block, prob 1), "QDrop" (block, prob < 1).
MQB_API std::string reconstruction_method(const AdvancedPtqConfig& config);

class MQB_API Reconstruction {
 public:
  // `model` must be calibrated (qparams set); weights use a quantizer with
  // mqb::AdaRoundExtension (AdaRoundFakeQuantize), and with prob < 1 activations one with
  // mqb::QDropExtension (QDropFakeQuantize). Throws ConfigError naming what is missing.
  Reconstruction(PreparedModel& model, const AdvancedPtqConfig& config, std::vector<at::Tensor> calib_batches);
  ~Reconstruction();
  Reconstruction(const Reconstruction&) = delete;
  Reconstruction& operator=(const Reconstruction&) = delete;

  // The units found, in graph order.
  std::vector<ReconstructionUnit> units() const;

  // Reconstructs every unit in order and leaves the model in quantization mode with hard
  // rounding written into the weights (W <- dequantized hard-rounded W).
  ReconstructionReport run(bool quiet);

  // For the benchmark: runs the segments before unit `index` (quantized, no optimisation),
  // caches the unit's inputs and float targets and sets up its rounding variables.
  void begin_unit(size_t index);
  // One reconstruction iteration of the begun unit (sample a batch, forward, loss,
  // backward, Adam steps); returns the loss. `iteration` counts from 1.
  double step(int64_t iteration);
  // One forward and backward of the same unit with plain fake quantization (nearest
  // rounding, no drop; gradient to the weights only): the baseline of the benchmark.
  void plain_forward_backward();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Convenience: Reconstruction(model, config, batches).run(quiet).
MQB_API ReconstructionReport reconstruct(PreparedModel& model, const AdvancedPtqConfig& config,
                                         std::vector<at::Tensor> calib_batches, bool quiet);

}  // namespace mqb
