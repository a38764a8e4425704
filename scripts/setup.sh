#!/usr/bin/env bash
# Installs every dependency from Debian's packages (only what is missing) and builds
# the project into ./build. Used by scripts/run.sh and scripts/test.sh; safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache git
  libtorch-dev libopenblas0-pthread          # LibTorch 1.13; OpenBLAS makes its BLAS ~50x faster
  libboost-dev libboost-program-options-dev  # Boost.DLL (headers) and Boost.Program_options
  libtomlplusplus-dev nlohmann-json3-dev zlib1g-dev
  dataset-fashion-mnist                      # the default data set (gz IDX files)
  libgtest-dev libbenchmark-dev
  libonnx-dev libprotobuf-dev protobuf-compiler  # ONNX QDQ export (protobuf API, checker, shape inference)
  chromium                                   # test-time only: headless check of the HTML bench report
  python3-torch python3-torchvision python3-numpy  # test-time clients only (stock PyTorch, NumPy, model generation)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm (test-time only: ONNX Runtime from npm runs our deployed models). Machines
# may already carry a Node.js that is not Debian's; only install Debian's when none is there.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# ONNX Runtime for Node.js, the real engine `mqbench verify` and the deploy tests run our
# ONNX files in. --ignore-scripts: the CPU runtime ships inside the package, and the
# install script would try to download a CUDA one.
if [ ! -d scripts/ort/node_modules/onnxruntime-node ]; then
  echo "== installing onnxruntime-node (npm)"
  (cd scripts/ort && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

BUILD_DIR=${MQB_BUILD_DIR:-build}
echo "== configuring and building into $BUILD_DIR"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD_DIR"
