// The whole consumer of a cnnkit self-contained file in Node.js: onnxruntime-node and
// nothing else. usage: node consumer.js MODEL PIXELS.bin N H W C  ->  {"label": [...], ...}
// PIXELS.bin holds N*H*W*C raw uint8 values, NHWC (what decoding an image gives).
'use strict';
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, pixelsFile, ...dims] = process.argv.slice(2);
  const shape = dims.map(Number);
  const session = await ort.InferenceSession.create(model);
  const pixels = new Uint8Array(fs.readFileSync(pixelsFile));
  const outputs = await session.run({ pixels: new ort.Tensor('uint8', pixels, shape) });
  console.log(JSON.stringify({
    outputs: session.outputNames,
    label: Array.from(outputs.label.data, Number),
    probs: Array.from(outputs.probs.data),
  }));
}

main().catch((error) => { console.error(error.message); process.exit(1); });
