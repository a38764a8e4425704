#!/usr/bin/env bash
# The SDK as a stranger uses it: install to a temporary prefix, build the three
# examples of sdk/examples against that prefix alone, pass them through the
# conformance kit, and run the installed mqbench with them on a real model (the
# reference CNN, briefly trained): the AcmeNPU backend found through plugin_dirs, the
# APoT quantizer through MQB_PLUGIN_PATH. Also checks that README.md's code is the
# code built here.
set -euo pipefail
build_dir=$1 source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1 MQB_QUIET=1
python3 "$source_dir/tests/sdk/readme_code_matches_examples.py" "$source_dir"

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
mqbench=$work/prefix/bin/mqbench
for example in half_range_observer apot_quantizer acme_npu_backend; do
  # Warnings are errors for the examples: they are what plugin authors copy.
  cmake -S "$source_dir/sdk/examples/$example" -B "$work/$example" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror" >/dev/null
  cmake --build "$work/$example" >/dev/null
done

# --- HalfRangeObserver (the README's "Writing a plugin"): found, listed, validates its parameters.
export MQB_PLUGIN_PATH="$work/half_range_observer"
"$mqbench" plugins --kind observer | grep -q "^HalfRangeObserver"
cat > "$work/half.toml" <<TOML
backend = "Academic"
[extra_qconfig]
w_observer = "HalfRangeObserver"
a_observer = "MinMaxObserver"
w_fakequantize = "FixedFakeQuantize"
a_fakequantize = "FixedFakeQuantize"
w_qscheme = { bit = 8 }
a_qscheme = { bit = 8 }
w_observer_extra_args = { shrink = 0.25 }
TOML
"$mqbench" config show "$work/half.toml" | grep -q "observer args: shrink=0.25"
sed -i 's/shrink = 0.25/shrink = 2.0/' "$work/half.toml"
if "$mqbench" config show "$work/half.toml" 2>"$work/err"; then
  echo "an out-of-range parameter was accepted"; exit 1
fi
grep -q "shrink = 2.0: accepted: a number in (0, 1\]" "$work/err"

# --- The conformance kit passes every example plugin (the quantizer with its own observer).
"$mqbench" check-plugin "$work/half_range_observer/libmqb_observer_halfrangeobserver.so" \
  "$work/apot_quantizer/libmqb_observer_apotobserver.so" \
  "$work/acme_npu_backend/libmqb_backend_acmenpu.so" >"$work/check.txt" || { cat "$work/check.txt"; exit 1; }
"$mqbench" check-plugin "$work/apot_quantizer/libmqb_quantizer_apotfakequantize.so" \
  --observer APoTObserver >>"$work/check.txt" || { cat "$work/check.txt"; exit 1; }

# --- A real model: the reference CNN trained on 4096 Fashion-MNIST images.
"$mqbench" train --model small_cnn --limit 4096 --out "$work/cnn.pt" --quiet >/dev/null
mkdir -p "$work/configs"
# plugin_dirs relative to the config file, as a user would write it.
cat > "$work/configs/acme_npu.toml" <<TOML
backend = "AcmeNPU"
plugin_dirs = ["../acme_npu_backend"]
TOML
cat > "$work/configs/apot_w8a8.toml" <<TOML
backend = "Academic"
[extra_qconfig]
w_observer = "APoTObserver"
a_observer = "APoTObserver"
w_fakequantize = "APoTFakeQuantize"
a_fakequantize = "APoTFakeQuantize"
w_qscheme = { bit = 8, symmetry = true, per_channel = true }
a_qscheme = { bit = 8, symmetry = true }
TOML
unset MQB_PLUGIN_PATH
"$mqbench" prepare --config "$work/configs/acme_npu.toml" --model "$work/cnn.pt" --out "$work/npu_prepare" >/dev/null
MQB_PLUGIN_PATH="$work/apot_quantizer" "$mqbench" ptq --config "$work/configs/acme_npu.toml" \
  --config "$work/configs/apot_w8a8.toml" --model "$work/cnn.pt" --calib-batches 4 --out "$work/ptq" --quiet >/dev/null
# The NPU's own deploy file, written by its deploy hook.
"$mqbench" ptq --config "$work/configs/acme_npu.toml" --model "$work/cnn.pt" --calib-batches 4 \
  --out "$work/ptq_deploy" --deploy --quiet >/dev/null
/usr/bin/python3 "$source_dir/tests/sdk/check_example_runs.py" "$work"  # Debian's python3-torch
echo "examples built against the installed SDK, checked, and run on the reference CNN"
