// The tombstone web module (wasm-bindgen, built by scripts/web.sh into www/pkg/) in a page:
// converts one payload, then runs the whole conformance table and writes `N passed, 0 failed`.
// Paths are relative to the page: ./pkg/ (the module), ./conformance/ (tests/conformance/) and
// ./cases.json (the case file names). When done, <body data-result="…"> holds the count line.
import init, { convertJson } from './pkg/tombstone_web.js';

const log = document.getElementById('log');
const lines = [];
const say = (line) => {
  lines.push(line);
  log.textContent = lines.join('\n');
};
const fetchOk = async (url) => {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response;
};
const bytesOf = async (url) => new Uint8Array(await (await fetchOk(url)).arrayBuffer());

await init(); // compiles ./pkg/tombstone_web_bg.wasm

// One payload: a provider's own example. The context is the table's: snake-case fields, each
// optional. convertJson returns the exact text of {"conversion": …} or {"problem": …}.
const file = 'payloads/mercoa/00-doc-example-verbatim.json';
const one = JSON.parse(convertJson(await bytesOf(`conformance/${file}`), {
  organization_id: 'acme-vet',
  received_at: '2026-01-01T00:00:00Z',
}));
say(`${file}: ${one.conversion.invoices_count} invoice(s) from ${one.conversion.source}, task ${one.conversion.task_id}`);

async function payloadBytes(c) {
  if (c.payload_file !== undefined) return bytesOf(`conformance/${c.payload_file}`);
  if (c.payload_text !== undefined) return new TextEncoder().encode(c.payload_text);
  if (c.payload_base64 !== undefined) return Uint8Array.from(atob(c.payload_base64), (ch) => ch.charCodeAt(0));
  return new TextEncoder().encode(JSON.stringify(c.payload));
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
let passed = 0;
let failed = 0;
for (const name of await (await fetchOk('cases.json')).json()) {
  const c = await (await fetchOk(`conformance/cases/${name}`)).json();
  const output = convertJson(await payloadBytes(c), c.context);
  const expected = JSON.stringify(c.expect);
  if (output === expected) {
    passed++;
  } else {
    failed++;
    say(`FAIL ${name.replace(/\.json$/, '')}: ${firstDifference(expected, output)}`);
  }
}
say(`${passed} passed, ${failed} failed`);
document.body.dataset.result = `${passed} passed, ${failed} failed`;
