// The tombstone plugin in Node: the component (target/wasm/tombstone_adapter.wasm) transpiled by
// jco into an ES module (`npm run transpile` → target/jco/), converts one payload, then runs the
// whole conformance table (tests/conformance/cases/*.json) and prints `N passed, 0 failed`.
//   npm install && npm run transpile && node convert-table.mjs [REPO]   (REPO: default ../..)
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
const conformance = join(root, 'tests', 'conformance');
const plugin = await import(pathToFileURL(join(root, 'target', 'jco', 'tombstone_adapter', 'tombstone_adapter.js')).href);

// The WIT context: option<T> is T or undefined, u64 is a BigInt.
const witContext = (ctx) => ({
  organizationId: ctx.organization_id ?? undefined,
  clinicId: ctx.clinic_id ?? undefined,
  idempotencyKey: ctx.idempotency_key ?? undefined,
  source: ctx.source ?? undefined,
  receivedAt: ctx.received_at ?? undefined,
  delaySeconds: ctx.delay_seconds == null ? undefined : BigInt(ctx.delay_seconds),
});

// convert's `result` error (a problem record) is thrown: jco-transpile 0.15 throws the record
// itself, jco 1.x an Error with the record as `payload`.
function convert(payload, context) {
  try {
    return { conversion: plugin.convert(payload, witContext(context)) };
  } catch (e) {
    const problem = typeof e?.json === 'string' ? e : e?.payload;
    if (typeof problem?.json !== 'string') throw e;
    return { problem };
  }
}

// One payload: a provider's own example.
const file = 'payloads/mercoa/00-doc-example-verbatim.json';
const { conversion } = convert(readFileSync(join(conformance, file)), {
  organization_id: 'acme-vet',
  received_at: '2026-01-01T00:00:00Z',
});
console.log(`${file}: ${conversion.invoicesCount} invoice(s) from ${conversion.source}, task ${conversion.taskId}`);

function payloadBytes(c) {
  if (c.payload_file !== undefined) return readFileSync(join(conformance, c.payload_file));
  if (c.payload_text !== undefined) return Buffer.from(c.payload_text, 'utf8');
  if (c.payload_base64 !== undefined) return Buffer.from(c.payload_base64, 'base64');
  return Buffer.from(JSON.stringify(c.payload), 'utf8');
}

// Where two texts first differ, with a little of each around it.
function firstDifference(expected, actual) {
  let at = 0;
  while (at < expected.length && expected[at] === actual[at]) at++;
  const around = (s) => s.slice(Math.max(0, at - 30), Math.max(0, at - 30) + 80);
  return `first difference at character ${at}\n  expected: …${around(expected)}\n  actual:   …${around(actual)}`;
}

// The whole table: the output text must equal the case's `expect`, byte for byte (the case file
// keeps the wire order, so its compact form is the exact expected text).
const names = readdirSync(join(conformance, 'cases')).filter((n) => n.endsWith('.json')).sort();
let passed = 0;
let failed = 0;
for (const name of names) {
  const c = JSON.parse(readFileSync(join(conformance, 'cases', name), 'utf8'));
  const outcome = convert(payloadBytes(c), c.context);
  const output = outcome.conversion
    ? `{"conversion":${outcome.conversion.json}}`
    : `{"problem":${outcome.problem.json}}`;
  const expected = JSON.stringify(c.expect);
  if (output === expected) {
    passed++;
  } else {
    failed++;
    console.log(`FAIL ${name.replace(/\.json$/, '')}: ${firstDifference(expected, output)}`);
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
