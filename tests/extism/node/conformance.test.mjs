// The conformance table through the tombstone Extism plugin (target/wasm/tombstone_extism.wasm,
// built by `cargo run --release -p xtask -- extism`) in Extism's JavaScript host SDK
// (@extism/extism) on Node: every case's output must be its `expect`, byte for byte. Run by
// tests/extism/run.sh after `npm ci`.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import createPlugin from '@extism/extism';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const conformance = join(root, 'tests', 'conformance');
const wasmPath = process.env.TOMBSTONE_EXTISM_WASM ?? join(root, 'target', 'wasm', 'tombstone_extism.wasm');
// The module imports only Extism's kernel: no WASI.
const plugin = await createPlugin({ wasm: [{ data: readFileSync(wasmPath) }] }, { useWasi: false });
after(() => plugin.close());

// A case file's fields as `convert`'s input: its context, and its payload field as it is (a
// `payload_file` becomes `payload_base64`, the file's bytes).
function convertInput(c) {
  const input = { context: c.context };
  if (c.payload_file !== undefined) input.payload_base64 = readFileSync(join(conformance, c.payload_file)).toString('base64');
  else if (c.payload_text !== undefined) input.payload_text = c.payload_text;
  else if (c.payload_base64 !== undefined) input.payload_base64 = c.payload_base64;
  else input.payload = c.payload;
  return JSON.stringify(input);
}

async function call(name, input) {
  const output = await plugin.call(name, input);
  return output === null ? null : output.text();
}

const names = readdirSync(join(conformance, 'cases')).filter((n) => n.endsWith('.json')).sort();

test('the conformance table is there', () => {
  assert.ok(names.length >= 60, `only ${names.length} cases`);
});

for (const name of names) {
  const c = JSON.parse(readFileSync(join(conformance, 'cases', name), 'utf8'));
  test(`conformance ${name}`, async () => {
    // The case file keeps the wire order: its compact form is the exact expected text.
    assert.equal(await call('convert', convertInput(c)), JSON.stringify(c.expect));
  });
}

test('detect, task_id and schema', async () => {
  const mercoa = readFileSync(join(conformance, 'payloads/mercoa/00-doc-example-verbatim.json'));
  assert.equal(await call('detect', mercoa), '{"source":"mercoa"}');
  assert.equal(await call('detect', '{}'), '{"source":null}');
  assert.equal(
    await call('task_id', JSON.stringify({ organization_id: 'org_123', idempotency_key: '5f3b2a1c-9d8e-4f7a-b6c5-0e1d2c3b4a59' })),
    '{"task_id":"af21b766d45b4c34ca723bc58150576076ef60b696347568de1f63d4b2220b60"}',
  );
  const problem = JSON.parse(await call('task_id', JSON.stringify({ organization_id: 'org 123', idempotency_key: 'k' }))).problem;
  assert.equal(problem.type, 'urn:tombstone:problem:invalid-header');
  assert.equal(problem.status, 400);
  assert.ok(JSON.parse(await call('schema', 'canonical-request')).title.startsWith('Invoice deletions request'));
  assert.equal(await call('schema', 'nope'), 'null');
});

test('an input of the wrong shape is an Extism error', async () => {
  for (const bad of ['not json', '{"payload":{}}', '{"context":{},"payload":{},"payload_text":"{}"}', '{"context":{},"payload":{},"extra":1}']) {
    await assert.rejects(plugin.call('convert', bad), /tombstone: bad convert input/, bad);
  }
  await assert.rejects(plugin.call('task_id', '{"organization_id":"o"}'), /tombstone: bad task_id input/);
});

test('the plugin answers again after an error', async () => {
  await assert.rejects(plugin.call('convert', 'not json'));
  assert.equal(await call('detect', '{}'), '{"source":null}');
});

// @extism/extism 1.0.3 keeps every call's input and output in the plugin until `reset()`, and its
// block addresses overflow at 32,768 of them: a plugin that is never reset fails after 16,383
// calls that take input. A long-lived host (tests/extism/node/bench.mjs) resets it after each call.
test('a plugin reset after each call outlives the SDK\'s 32,768 blocks', async () => {
  for (let i = 0; i < 17_000; i++) {
    assert.equal(await call('detect', '{}'), '{"source":null}');
    await plugin.reset();
  }
});
