#!/usr/bin/env bash
# Set up, build, and run the whole test suite (what CI runs through .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${MQB_BUILD_DIR:-build}
# One OpenMP thread per test process: two busy-waiting threads on two cores can run
# ten times slower than one (DESIGN.md).
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
ctest --test-dir "$BUILD_DIR" --output-on-failure -j2 --timeout 900
