// `mqbench bench --matrix B.toml`: a matrix of backends x observers x quantizers x bit
// widths x PTQ/QAT over one model and data set, with a terminal table and Markdown,
// CSV, JSON and HTML reports.
#include <ostream>

#include "bench_report.h"
#include "cli_common.h"
#include "mqb/host/registry.h"

namespace fs = std::filesystem;

namespace mqb::cli {

int cmd_bench(const std::vector<std::string>& args, std::ostream& out) {
  po::options_description opts("options");
  std::string matrix_file, out_dir;
  opts.add_options()("matrix", po::value(&matrix_file)->required(), "the matrix TOML (README: \"mqbench bench\")")(
      "out", po::value(&out_dir)->default_value("results/bench"),
      "output folder: bench.{md,csv,json,html} and runs/<row>/")(
      "list", "print the matrix's rows (and why any cannot run) without running them")("quiet", "no progress lines")(
      "json", "print bench.json instead of the table");
  po::variables_map vm;
  const std::string usage = "mqbench bench --matrix B.toml [--out DIR] [--list] [--quiet] [--json]";
  if (!parse_options(args, opts, {}, vm, usage, out)) return kOk;
  const bool quiet = vm.count("quiet") > 0;
  Registry registry(SearchPath::standard());
  const BenchMatrix matrix = load_bench_matrix(matrix_file, registry);
  if (vm.count("list")) {
    for (const auto& r : matrix.rows) {
      const std::string why = check_bench_row(r, registry);
      out << r.index << "\t" << r.mode << "\t" << r.group << "\t" << r.label
          << (why.empty() ? "" : "\tskipped: " + why) << "\n";
    }
    return kOk;
  }
  const BenchRun run = run_bench(matrix, out_dir, registry, quiet);
  write_bench_reports(run, out_dir);
  if (vm.count("json")) out << bench_json(run).dump(2) << "\n";
  else
    out << bench_terminal_table(run) << "reports: " << (fs::path(out_dir) / "bench.{md,csv,json,html}").string()
        << ", rows in " << (fs::path(out_dir) / "runs").string() << "/\n";
  // Skipped rows are invalid combinations, reported; a row that failed while running is an error.
  return run.count("failed") > 0 ? kFailure : kOk;
}

}  // namespace mqb::cli
