#!/usr/bin/env bash
# Installs the SDK to a temporary prefix, builds the README's example plugin against
# that prefix alone, and has the installed mqbench find, list and use it.
set -euo pipefail
build_dir=$1 source_dir=$2
work=$(mktemp -d)
# The code the README shows is the code built here.
python3 - "$source_dir" <<'PY'
import re, sys
root = sys.argv[1]
readme = open(f"{root}/README.md").read()
shown = re.search(r"```cpp\n// half_range_observer.cpp\n(.*?)```", readme, re.S).group(1)
built = open(f"{root}/sdk/examples/half_range_observer/half_range_observer.cpp").read()
if shown not in built:
    sys.exit("README.md's half_range_observer.cpp differs from sdk/examples/half_range_observer/")
PY
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/sdk/examples/half_range_observer" -B "$work/example" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/example" >/dev/null
ls "$work/example/libmqb_observer_halfrangeobserver.so"
export MQB_PLUGIN_PATH="$work/example"
"$work/prefix/bin/mqbench" plugins --kind observer | grep -q "^HalfRangeObserver"
cat > "$work/c.toml" <<TOML
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
"$work/prefix/bin/mqbench" config show "$work/c.toml" | grep -q "observer args: shrink=0.25"
# The plugin validates its own parameters through the SDK.
sed -i 's/shrink = 0.25/shrink = 2.0/' "$work/c.toml"
if "$work/prefix/bin/mqbench" config show "$work/c.toml" 2>"$work/err"; then
  echo "an out-of-range parameter was accepted"; exit 1
fi
grep -q "shrink = 2.0: accepted: a number in (0, 1\]" "$work/err"
echo "example plugin built against the installed SDK, found and validated"
