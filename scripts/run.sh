#!/usr/bin/env bash
# The main job on its default: set up, build, then show what the tool can do on this
# machine (the plugins found and the README's seed configuration fully resolved).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
BUILD_DIR=${MQB_BUILD_DIR:-build}
"$BUILD_DIR"/bin/mqbench plugins
"$BUILD_DIR"/bin/mqbench config show configs/seed_mse_fixed.toml
