// The deploy interface: what a backend plugin gets to write the files its toolchain
// consumes (TensorRT dynamic ranges, SNPE encodings, ...). The core builds the
// DeployContext from a calibrated PreparedModel, always writes the QDQ ONNX model and
// the deployed TorchScript itself, then calls BackendPreset::deploy(ctx); a
// declarative backend sets BackendSpec::deploy. See README.md "Deploy".
//
// Stable interface: plugins written against it (in tree and out of tree) keep working.
#pragma once
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mqb/deploy_graph.h"
#include "mqb/error.h"

namespace mqb {

// One enabled quantization site with its frozen integer grid, as deployed.
struct MQB_API DeploySite {
  std::string name;       // site name: "conv1.weight", "fc1.input", "conv2.output"
  bool is_weight = false;
  std::string op;         // op family of the consumer (weight/input sites) or producer (output sites)
  // Name of the float tensor the site quantizes in every ONNX file the core writes: the
  // initializer name for weights, the activation's value name otherwise. In the QDQ model
  // it feeds QuantizeLinear; in the float model (OnnxForm::Float) it is the plain tensor.
  std::string tensor;
  std::vector<double> scale;        // one value (per-tensor) or one per channel
  std::vector<int64_t> zero_point;  // same length as scale, integer, within [quant_min, quant_max]
  int64_t quant_min = 0;
  int64_t quant_max = 255;
  int bit = 8;
  int axis = -1;            // channel axis for per-channel sites, -1 per-tensor
  bool symmetric = false;   // the scheme was symmetric (zero points are 0 or the unsigned midpoint)
  bool pot_scale = false;   // power-of-two scales
  // NNIE's logarithmic quantizer has no scale/zero point: log_domain is true, data_max
  // holds its clip value and scale/zero_point are empty.
  bool log_domain = false;
  double data_max = 0;

  bool per_channel() const { return axis >= 0; }
  // The real range channel c covers: scale*(quant_min - zp) and scale*(quant_max - zp)
  // (-data_max and data_max in the log domain).
  double range_min(size_t c = 0) const;
  double range_max(size_t c = 0) const;
  // max(|range_min|, |range_max|) over every channel (TensorRT's dynamic range = scale*qmax
  // for a symmetric site).
  double abs_max() const;
};

// The ONNX forms the core can write for a plugin (opset 13, see README.md "Deploy").
enum class OnnxForm {
  QDQ,      // QuantizeLinear/DequantizeLinear pairs at every site (per-channel weights on axis 0)
  Float,    // no fake quant: weights clipped to their grid's range, activations plain float
  QLinear,  // ONNX_QNN: QLinearConv, com.microsoft QLinearAdd / QLinear(Global)AveragePool on
            // uint8/int8 tensors; other ops keep their Q/DQ pairs
};
MQB_API const char* to_string(OnnxForm form);

class MQB_API DeployContext {
 public:
  virtual ~DeployContext();
  virtual const std::string& backend() const = 0;
  virtual const std::string& model_name() const = 0;  // file stem, e.g. "small_cnn"
  virtual const std::filesystem::path& out_dir() const = 0;
  // Every enabled site in graph order.
  virtual const std::vector<DeploySite>& sites() const = 0;
  // The QDQ ONNX model the core already wrote (absolute path).
  virtual const std::filesystem::path& qdq_onnx() const = 0;
  // Writes the model as ONNX in `form` to out_dir()/file_name (atomically, after the
  // ONNX checker and shape inference passed) and returns the path.
  virtual std::filesystem::path write_onnx(const std::string& file_name, OnnxForm form) = 0;
  // The structure of the float model write_onnx(..., OnnxForm::Float) writes (built on
  // first use): nodes, their tensors, initializer shapes; site tensors carry the names
  // DeploySite::tensor gives. See mqb/deploy_graph.h.
  virtual const DeployGraph& graph() const = 0;

  // Helpers for plugins: atomic writes into out_dir() (temporary file + rename), each
  // recorded in written(). `file_name` is a plain name, no directories.
  std::filesystem::path write_text(const std::string& file_name, const std::string& text);
  std::filesystem::path write_json(const std::string& file_name, const nlohmann::json& value);
  const std::vector<std::filesystem::path>& written() const { return written_; }

 protected:
  void record(const std::filesystem::path& file);

 private:
  std::vector<std::filesystem::path> written_;
};

// Finds a site by name; throws ModelError naming it when absent.
MQB_API const DeploySite& find_site(const DeployContext& ctx, const std::string& name);

}  // namespace mqb
