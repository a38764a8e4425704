#!/usr/bin/env bash
# The conformance kit must fail broken plugins, naming the broken checks and why.
set -euo pipefail
mqbench=$1 fixtures=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# A quantizer with a wrong-sign input gradient whose load_state() forgets the scale.
if "$mqbench" check-plugin "$fixtures/broken/libmqb_quantizer_brokenquantizer.so" >"$out"; then
  echo "check-plugin passed a broken quantizer"; cat "$out"; exit 1
fi
grep -q "FAIL per_tensor.state_round_trip .*state after load_state differs: 'scale'" "$out"
grep -q "FAIL per_channel.gradient_input .*by finite differences" "$out"
grep -q "pass per_tensor.forward_affine" "$out"   # not everything fails: the forward is right
test "$(grep -c '^  FAIL ' "$out")" -eq 6          # state and input gradient, three schemes each
# A library whose descriptor declares another name than its file: refused by the loader.
if "$mqbench" check-plugin "$fixtures/misnamed/libmqb_observer_misnamed.so" >"$out"; then
  echo "check-plugin passed a misnamed plugin"; cat "$out"; exit 1
fi
grep -q "FAIL descriptor .*refused by the loader: declares name 'SomethingElse'" "$out"
# Not a plugin file name at all.
if "$mqbench" check-plugin /etc/hostname >"$out"; then exit 1; fi
grep -q "FAIL file .*libmqb_<kind>_<lowercase name>.so" "$out"
echo "broken plugins are refused with the failing checks named"
