#!/usr/bin/env bash
# The main job on its default: set up and build, train (or reuse) the reference model
# on Fashion-MNIST, then post-training-quantize it under every example config (all 14
# backends at their defaults, MQBench's documented MSE example, Academic W4A4) and
# print the comparison table. Artefacts go to ./results/ptq/<config>/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${MQB_BUILD_DIR:-build}
MQB="$BUILD_DIR/bin/mqbench"
"$MQB" train --model small_cnn
configs=()
for f in configs/*.toml; do configs+=(--config "$f"); done
"$MQB" ptq "${configs[@]}" --out results/ptq
