#!/usr/bin/env bash
# The main job on its default: set up and build, train (or reuse) the reference model
# on Fashion-MNIST, then compare quantization schemes on it with one benchmark matrix
# (configs/bench/default.toml):
#   1. W8A8 post-training quantization for every backend at its defaults (configs/*.toml),
#   2. W4A8 post-training quantization with MinMax vs MSE vs the histogram observers,
#   3. W4A4 quantization-aware training (one epoch) with LSQ vs PACT vs DoReFa vs DSQ.
# Prints the table; the reports (bench.md, .csv, .json, .html) and every row's artefacts
# (config.toml, prepared state, deployed TorchScript, report.json) go to ./results/bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${MQB_BUILD_DIR:-build}
MQB="$BUILD_DIR/bin/mqbench"
QUIET=${MQB_QUIET:+--quiet}

"$MQB" train --model small_cnn $QUIET
"$MQB" bench --matrix configs/bench/default.toml --out results/bench $QUIET
