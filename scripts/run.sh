#!/usr/bin/env bash
# The main job on its default: set up and build, train (or reuse) the reference model
# on Fashion-MNIST, then compare quantization schemes on it:
#   1. W8A8 post-training quantization for every backend at its defaults (configs/*.toml),
#   2. W4A8 post-training quantization with MinMax vs MSE vs the histogram observers,
#   3. W4A4 quantization-aware training (one epoch) with LSQ vs PACT vs DoReFa vs DSQ.
# Artefacts (prepared state, deployed TorchScript, report.json) go to ./results/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${MQB_BUILD_DIR:-build}
MQB="$BUILD_DIR/bin/mqbench"
QUIET=${MQB_QUIET:+--quiet}

"$MQB" train --model small_cnn $QUIET

echo; echo "== 1. W8A8 PTQ, every backend at its defaults"
args=(); for f in configs/*.toml; do args+=(--config "$f"); done
"$MQB" ptq "${args[@]}" --out results/ptq $QUIET

echo; echo "== 2. W4A8 PTQ, observers compared"
args=(); for f in configs/compare/w4a8_*.toml; do args+=(--config "$f"); done
"$MQB" ptq "${args[@]}" --out results/ptq_w4a8 $QUIET

echo; echo "== 3. W4A4 QAT, one epoch, quantizers compared"
for f in configs/compare/w4a4_qat_*.toml; do
  "$MQB" qat --config "$f" --epochs 1 --out "results/qat/$(basename "$f" .toml)" $QUIET
done
