#!/usr/bin/env python3
"""Checks what the installed mqbench did with the example plugins on the reference CNN
(tests/sdk/examples_end_to_end.sh): the AcmeNPU sites are exactly those its rules name,
its deployed TorchScript carries power-of-two weight scales and [0, 255] activations
(read back with stock PyTorch), and 8-bit PTQ stays near float for both examples."""
import json, math, os, sys
import torch

work = sys.argv[1]
errors = []

# Sites: weights of conv/linear, inputs of the compute ops; pooling/relu/flatten none.
sites = open(os.path.join(work, "npu_prepare", "sites.txt")).read().splitlines()[1:]
names = [line.split()[0] for line in sites if line.startswith("  ") and not line.startswith("  left")]
want = ["conv1.weight", "conv1.input", "conv2.weight", "conv2.input",
        "fc1.weight", "fc1.input", "fc2.weight", "fc2.input"]
if names != want:
    errors.append(f"AcmeNPU sites {names}, its rules give {want}")

for config, tolerance in (("acme_npu", 1.0), ("apot_w8a8", 1.0)):
    r = json.load(open(os.path.join(work, "ptq", config, "report.json")))
    if r["float_top1"] < 60:
        errors.append(f"{config}: the trained reference CNN scores only {r['float_top1']} %")
    if abs(r["quant_top1"] - r["float_top1"]) > tolerance:
        errors.append(f"{config}: 8-bit PTQ top-1 {r['quant_top1']} vs float {r['float_top1']}")
    # 8 bits: about 40 dB uniform; power-of-two scales (AcmeNPU weights) cost up to 6 dB.
    low = [s for s in r["site_sqnr"] if s["sqnr_db"] != "inf" and s["sqnr_db"] < 20]
    if low:
        errors.append(f"{config}: sites below 20 dB SQNR at 8 bits: {low}")
apot = json.load(open(os.path.join(work, "ptq", "apot_w8a8", "report.json")))
if "non-uniform levels" not in apot["deployed"]:
    errors.append(f"APoT has no aten form, yet the report says deployed: {apot['deployed']}")

# The NPU's deployed TorchScript, read by stock PyTorch: power-of-two per-channel weight
# scales, activations per tensor on [0, 255].
m = torch.jit.load(os.path.join(work, "ptq", "acme_npu", "deployed.pt"))
scales = {k: v for k, v in m.named_buffers() if k.endswith("_scale")}
if len(scales) != 4:
    errors.append(f"expected 4 per-channel weight sites in deployed.pt, found {sorted(scales)}")
for k, v in scales.items():
    if not all(math.log2(float(s)).is_integer() for s in v):
        errors.append(f"{k}: weight scales are not powers of two: {v[:4].tolist()}")
acts = [n for n in m.graph.nodes() if n.kind() == "aten::fake_quantize_per_tensor_affine"]
ranges = {(n.inputsAt(3).toIValue(), n.inputsAt(4).toIValue()) for n in acts}
if len(acts) != 4 or ranges != {(0, 255)}:
    errors.append(f"expected 4 activation sites on [0, 255], found {len(acts)} with ranges {ranges}")

# The NPU's own deploy file against the deploy manifest the core wrote beside it.
deploy_dir = os.path.join(work, "ptq_deploy", "acme_npu", "deploy")
manifest = json.load(open(os.path.join(deploy_dir, "deploy.json")))
program_files = [f for f in os.listdir(deploy_dir) if f.endswith("_acme_npu.json")]
if len(program_files) != 1:
    errors.append(f"expected one *_acme_npu.json in {deploy_dir}, found {sorted(os.listdir(deploy_dir))}")
else:
    program = json.load(open(os.path.join(deploy_dir, program_files[0])))
    tensors = program.get("tensors", {})
    if program.get("format") != "acme-npu-program-v1" or len(tensors) != len(manifest["sites"]):
        errors.append(f"AcmeNPU program: format {program.get('format')}, {len(tensors)} tensors "
                      f"for {len(manifest['sites'])} sites")
    for site in manifest["sites"]:
        t = tensors.get(site["tensor"])
        if t is None:
            errors.append(f"AcmeNPU program lacks tensor {site['tensor']} (site {site['name']})")
        elif site["is_weight"]:
            want = [round(-math.log2(s)) for s in site["scale"]]
            if t.get("shift") != want or any(2.0 ** -k != s for k, s in zip(want, site["scale"])):
                errors.append(f"{site['name']}: shifts {t.get('shift')} for scales {site['scale'][:4]}")
        elif t.get("scale") != site["scale"][0] or t.get("zero_point") != site["zero_point"][0]:
            errors.append(f"{site['name']}: program {t} vs manifest scale {site['scale']} zp {site['zero_point']}")

if errors:
    sys.exit("\n".join(errors))
print("AcmeNPU and APoT runs as expected")
