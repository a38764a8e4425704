// The benchmark matrix of `mqbench bench --matrix B.toml`: which model and data, and
// groups of axes (base configs x backends x observers x quantizers x bit widths x
// modes x seeds) whose Cartesian product gives the rows. Each row becomes one ordinary
// config file (TOML text), so any row can be re-run alone with `mqbench ptq`/`qat`.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mqb {
class Registry;
}

namespace mqb::cli {

struct QatSettings {
  int epochs = 1;
  double lr = 0.01;
  int64_t batch_size = 128;
  int64_t train_images = 0;  // 0: the whole training split
  int freeze_bn_epoch = -1;
};

// One row of the matrix before it runs.
struct BenchRowSpec {
  int index = 0;       // 1-based, in matrix order
  std::string id;      // folder name: "07-w4a8-observers-mseobserver"
  std::string group;
  std::string mode;    // "ptq" or "qat"
  uint64_t seed = 0;
  std::string label;   // the axis values that make this row, e.g. "Academic MSEObserver w4a8"
  std::string base_config;  // the base config file, or "" when the row names only a backend
  std::string config_toml;  // the row's complete config
  std::string invalid;      // why the row cannot run (found while expanding), or ""
};

struct BenchMatrix {
  std::string file;
  std::string model;  // a reference model name or a TorchScript file (resolved against `file`)
  std::string data;   // "fashion-mnist" or a data folder (resolved against `file`)
  int64_t calib_batches = 8;
  int64_t batch_size = 64;
  int64_t eval_images = 0;  // 0: the whole evaluation split
  std::vector<uint64_t> seeds = {0};
  QatSettings qat;
  std::vector<BenchRowSpec> rows;
};

// Reads and expands the matrix. Schema errors are ConfigErrors with file:line:column;
// rows that cannot be built (e.g. a bit width on a scheme with an explicit range) are
// kept with `invalid` set, so the report shows them as skipped. The registry resolves a
// backend's default scheme when the bits axis changes a scheme the base does not spell out.
BenchMatrix load_bench_matrix(const std::filesystem::path& file, Registry& registry);
BenchMatrix parse_bench_matrix(const std::string& text, const std::string& file, Registry& registry);

}  // namespace mqb::cli
