// The conformance table through the tombstone plugin transpiled by jco and run in Node: the same
// component, a host that is not ours. Run by scripts/test.sh after `npm ci` and `npm run transpile`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const conformance = join(root, 'tests', 'conformance');
const modulePath = join(root, 'target', 'jco', 'tombstone_adapter', 'tombstone_adapter.js');
const plugin = await import(pathToFileURL(modulePath).href);

function payloadBytes(c) {
  if (c.payload_file !== undefined) return new Uint8Array(readFileSync(join(conformance, c.payload_file)));
  if (c.payload_text !== undefined) return new TextEncoder().encode(c.payload_text);
  if (c.payload_base64 !== undefined) return new Uint8Array(Buffer.from(c.payload_base64, 'base64'));
  return new TextEncoder().encode(JSON.stringify(c.payload));
}

// The WIT context: option<T> is T or undefined, u64 is a BigInt.
function witContext(ctx) {
  return {
    organizationId: ctx.organization_id ?? undefined,
    clinicId: ctx.clinic_id ?? undefined,
    idempotencyKey: ctx.idempotency_key ?? undefined,
    source: ctx.source ?? undefined,
    receivedAt: ctx.received_at ?? undefined,
    delaySeconds: ctx.delay_seconds === undefined || ctx.delay_seconds === null ? undefined : BigInt(ctx.delay_seconds),
  };
}

// A WIT `result` error is thrown: jco 1.x wraps the problem record in an Error (`e.payload`),
// jco-transpile 0.15 throws the record itself.
function problemOf(e) {
  const p = e && typeof e.json === 'string' ? e : e && e.payload;
  return p && typeof p.json === 'string' ? p : undefined;
}

// The output text, exactly as every runtime prints it.
function run(c) {
  try {
    const conversion = plugin.convert(payloadBytes(c), witContext(c.context));
    return `{"conversion":${conversion.json}}`;
  } catch (e) {
    const problem = problemOf(e);
    if (problem) return `{"problem":${problem.json}}`;
    throw e;
  }
}

const names = readdirSync(join(conformance, 'cases')).filter((n) => n.endsWith('.json')).sort();

test('the conformance table is there', () => {
  assert.ok(names.length >= 60, `only ${names.length} cases`);
});

for (const name of names) {
  const c = JSON.parse(readFileSync(join(conformance, 'cases', name), 'utf8'));
  test(`conformance ${name}`, () => {
    // The case file keeps the wire order: its compact form is the exact expected text.
    assert.equal(run(c), JSON.stringify(c.expect));
  });
}

test('detect, taskId and schema', () => {
  const mercoa = new Uint8Array(readFileSync(join(conformance, 'payloads/mercoa/00-doc-example-verbatim.json')));
  assert.equal(plugin.detect(mercoa), 'mercoa');
  assert.equal(plugin.detect(new TextEncoder().encode('{}')), undefined);
  assert.equal(
    plugin.taskId('org_123', '5f3b2a1c-9d8e-4f7a-b6c5-0e1d2c3b4a59'),
    'af21b766d45b4c34ca723bc58150576076ef60b696347568de1f63d4b2220b60',
  );
  assert.throws(() => plugin.taskId('org 123', 'k'), (e) => problemOf(e)?.kind === 'invalid-header' && problemOf(e)?.status === 400);
  assert.equal(JSON.parse(plugin.schema('canonical-request')).title.startsWith('Invoice deletions request'), true);
  assert.equal(plugin.schema('nope'), undefined);
});
