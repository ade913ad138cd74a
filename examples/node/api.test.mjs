// The plugin's other exports in Node (jco-transpiled, like convert-table.mjs): detect, taskId and
// schema. `npm test` after `npm run transpile`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const conformance = join(root, 'tests', 'conformance');
const plugin = await import(pathToFileURL(join(root, 'target', 'jco', 'tombstone_adapter', 'tombstone_adapter.js')).href);

// A WIT `result` error is thrown: the problem record itself (jco-transpile 0.15), or an Error
// carrying it as `payload` (jco 1.x).
const problemOf = (e) => (typeof e?.json === 'string' ? e : e?.payload);

test('detect', () => {
  const mercoa = new Uint8Array(readFileSync(join(conformance, 'payloads/mercoa/00-doc-example-verbatim.json')));
  assert.equal(plugin.detect(mercoa), 'mercoa');
  assert.equal(plugin.detect(new TextEncoder().encode('{}')), undefined);
});

test('taskId', () => {
  assert.equal(
    plugin.taskId('org_123', '5f3b2a1c-9d8e-4f7a-b6c5-0e1d2c3b4a59'),
    'af21b766d45b4c34ca723bc58150576076ef60b696347568de1f63d4b2220b60',
  );
  assert.throws(
    () => plugin.taskId('org 123', 'k'),
    (e) => problemOf(e)?.kind === 'invalid-header' && problemOf(e)?.status === 400,
  );
});

test('schema', () => {
  assert.ok(JSON.parse(plugin.schema('canonical-request')).title.startsWith('Invoice deletions request'));
  assert.equal(plugin.schema('nope'), undefined);
});
