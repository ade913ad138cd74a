import { readFileSync } from 'node:fs';
import createPlugin from '@extism/extism';
const p = await createPlugin({ wasm: [{ data: readFileSync('../../../target/wasm/tombstone_extism.wasm') }] }, { useWasi: false });
const [fn, size] = process.argv.slice(2);
const big = 'x'.repeat(+size);
for (let i = 0; i < 20000; i++) {
  try { await p.call(fn, big); } catch (e) { console.log(fn, size, 'failed at call', i, e.message); process.exit(0); }
}
console.log(fn, size, 'ok 20000');
