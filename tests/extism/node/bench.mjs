// The tombstone Extism plugin's `convert` in Extism's JavaScript host SDK (@extism/extism) on Node,
// timed for the benchmark table (host/benches/convert.rs runs it once per payload, mode and round,
// as it runs the ajv peer).
// usage: node bench.mjs MODULE.wasm SAMPLE.json CONTEXT_JSON MODE MILLIS BATCH_NS
//   MODE   warm: one plugin, `convert` called again and again (and `reset()` after each call);
//          fresh: a new plugin per call (the module compiled once, instantiated per call, then
//          closed), as a host that isolates every delivery would run it.
// Each call is the whole call a host makes: the input `{"context": CONTEXT, "payload_text":
// <the sample's text>}` (prepared once) in, the output read as text. Timed as the benchmark times
// its own rows: for the first half of MILLIS each call on its own (the median call), for the
// second batches of consecutive calls lasting about BATCH_NS (the mean of the fastest).
// Prints one JSON line: ns_per_op (the mean over every batched call), best_batch_ns_per_op,
// p50_ns.
import { readFileSync } from 'node:fs';
import createPlugin from '@extism/extism';

const [modulePath, samplePath, contextJson, mode = 'warm', millis = '400', batchNs = '5000000'] = process.argv.slice(2);
const module = new WebAssembly.Module(readFileSync(modulePath));
const raw = readFileSync(samplePath);
const input = JSON.stringify({ context: JSON.parse(contextJson), payload_text: raw.toString('utf8') });
// The module imports only Extism's kernel: no WASI.
const load = () => createPlugin({ wasm: [{ module }] }, { useWasi: false });

let convert;
let warm;
if (mode === 'warm') {
  warm = await load();
  convert = async () => {
    const text = (await warm.call('convert', input)).text();
    // @extism/extism keeps every call's input and output until `reset()` (a plugin that is never
    // reset fails after 32,767 of them): a long-lived host resets it after each call.
    await warm.reset();
    return text;
  };
} else if (mode === 'fresh') {
  convert = async () => {
    const plugin = await load();
    try {
      return (await plugin.call('convert', input)).text();
    } finally {
      await plugin.close();
    }
  };
} else {
  console.error(`unknown mode ${mode}: warm or fresh`);
  process.exit(2);
}

const first = await convert();
if (!first.startsWith('{"conversion":')) {
  console.error(first);
  process.exit(1);
}

const now = () => Number(process.hrtime.bigint());
const half = (+millis * 1e6) / 2;
// Warm-up: the SDK's JavaScript and the module's code tiered up.
for (let i = 0, t0 = now(); i < 50 || now() - t0 < Math.min(half / 2, 100e6); i++) await convert();

const samples = [];
let start = now();
let last = now();
while (now() - start < half || samples.length < 100) {
  await convert();
  const t = now();
  samples.push(t - last);
  last = t;
}
const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
const batch = Math.max(1, Math.ceil(+batchNs / mean));
let best = Infinity;
let total = 0;
let calls = 0;
start = now();
for (let batches = 0; now() - start < half || batches < 3; batches++) {
  const b0 = now();
  for (let i = 0; i < batch; i++) await convert();
  const elapsed = now() - b0;
  best = Math.min(best, elapsed / batch);
  total += elapsed;
  calls += batch;
}
samples.sort((a, b) => a - b);
if (warm) await warm.close();
console.log(JSON.stringify({
  peer: 'extism-node',
  mode,
  bytes: raw.length,
  ns_per_op: Math.round(total / calls),
  best_batch_ns_per_op: Math.round(best),
  p50_ns: Math.round(samples[Math.floor(samples.length / 2)]),
}));
