#!/usr/bin/env node
// Test-time client (not part of the product): runs an ONNX model in ONNX Runtime (CPU)
// over a float32 .npy batch file and writes the outputs as a float32 .npy file.
//   node run_onnx.js MODEL.onnx INPUTS.npy OUTPUTS.npy [BATCH]
// Exit 0 on success; errors go to stderr with exit 1. Used by `mqbench verify`.
'use strict';
const fs = require('fs');

function fail(msg) {
  process.stderr.write('run_onnx.js: ' + msg + '\n');
  process.exit(1);
}

let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  fail('cannot load onnxruntime-node (' + e.message + '); run scripts/setup.sh');
}

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 1, 6) !== 'NUMPY') fail(file + ': not a .npy file');
  const major = buf[6];
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const hstart = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(header);
  const order = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || descr[1] !== '<f4') fail(file + ': expected float32 (<f4) data, found ' + (descr ? descr[1] : '?'));
  if (!order || order[1] !== 'False') fail(file + ': Fortran order is not supported');
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const offset = hstart + hlen;
  const count = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = buf.readFloatLE(offset + 4 * i);
  return { dims, data };
}

function writeNpy(file, dims, data) {
  let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims.join(', ') + (dims.length === 1 ? ',' : '') + '), }';
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.alloc(4 * data.length);
  for (let i = 0; i < data.length; i++) body.writeFloatLE(data[i], 4 * i);
  const tmp = file + '.tmp';
  fs.writeFileSync(tmp, Buffer.concat([head, Buffer.from(header, 'latin1'), body]));
  fs.renameSync(tmp, file);
}

async function main() {
  const [model, inputs, outputs, batchArg] = process.argv.slice(2);
  if (!model || !inputs || !outputs) fail('usage: node run_onnx.js MODEL.onnx INPUTS.npy OUTPUTS.npy [BATCH]');
  const batch = batchArg ? Number(batchArg) : 500;
  const x = readNpy(inputs);
  // MQB_ORT_OPT: graph optimization level (all, extended, basic, disabled); `disabled`
  // runs the Q/DQ ops as written instead of fusing them into integer kernels.
  const opts = { intraOpNumThreads: 1, interOpNumThreads: 1 };
  if (process.env.MQB_ORT_OPT) opts.graphOptimizationLevel = process.env.MQB_ORT_OPT;
  const session = await ort.InferenceSession.create(model, opts);
  const n = x.dims[0];
  const per = x.data.length / n;
  let outDims = null;
  let out = null;
  for (let b = 0; b < n; b += batch) {
    const m = Math.min(batch, n - b);
    const t = new ort.Tensor('float32', x.data.subarray(b * per, (b + m) * per), [m, ...x.dims.slice(1)]);
    const res = await session.run({ [session.inputNames[0]]: t });
    const y = res[session.outputNames[0]];
    if (!out) {
      outDims = [n, ...y.dims.slice(1)];
      out = new Float32Array(n * (y.data.length / m));
    }
    out.set(y.data, b * (y.data.length / m));
  }
  writeNpy(outputs, outDims, out);
}

main().catch((e) => fail(e.message || String(e)));
