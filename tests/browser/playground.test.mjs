// The playground (www/) in headless Chromium: Debian's /usr/bin/chromium driven by playwright-core.
// Needs `scripts/web.sh` first (www/pkg/, www/examples/). Run by scripts/test.sh.
//
// - the page loads from loopback with no console or page errors;
// - every shared sample payload, pasted with its case's context, shows what the table expects;
// - the whole conformance table, run inside the page through the page's own module (adapter.js),
//   gives exactly each case's expected output JSON, as the native core does;
// - a broken payload highlights the offending place; the keyboard reaches every control;
// - it works offline once loaded; a screenshot goes to target/playground.png (a CI artifact).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { serve } from './serve.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const conformance = join(root, 'tests', 'conformance');
const artifacts = join(root, 'target');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const cases = readdirSync(join(conformance, 'cases'))
  .filter((n) => n.endsWith('.json'))
  .sort()
  .map((n) => ({ name: n.replace(/\.json$/, ''), ...JSON.parse(readFileSync(join(conformance, 'cases', n), 'utf8')) }));

function payloadBytes(c) {
  if (c.payload_file !== undefined) return readFileSync(join(conformance, c.payload_file));
  if (c.payload_text !== undefined) return Buffer.from(c.payload_text, 'utf8');
  if (c.payload_base64 !== undefined) return Buffer.from(c.payload_base64, 'base64');
  return Buffer.from(JSON.stringify(c.payload), 'utf8');
}

let server;
let browser;

before(async () => {
  // PLAYGROUND_URL: test the page where another server serves it (CI: `tombstone serve` at
  // /playground/); otherwise serve www/ from this process.
  const external = process.env.PLAYGROUND_URL;
  server = external ? { url: external, close: async () => {} } : await serve();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** A fresh context and page on the playground, ready; `problems` collects console errors and
 * uncaught page errors. */
async function open({ viewport = { width: 1280, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  await page.goto(server.url);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 10_000 });
  return { context, page, problems };
}

/** Waits until the page has rendered the last edit (updates run on the next animation frame). */
const settled = (page) => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

/** Sets the context inputs and the payload as a person would, and returns the shown output JSON. */
async function enter(page, ctx, text) {
  await page.selectOption('#source', ctx.source ?? 'auto');
  await page.fill('#organization', ctx.organization_id ?? '');
  await page.fill('#clinic', ctx.clinic_id ?? '');
  await page.fill('#key', ctx.idempotency_key ?? '');
  await page.fill('#received-at', ctx.received_at ?? '');
  await page.fill('#delay', ctx.delay_seconds === undefined || ctx.delay_seconds === null ? '0' : String(ctx.delay_seconds));
  await page.fill('#payload', text);
  await settled(page);
  return JSON.parse(await page.textContent('#output-json'));
}

test('the page loads from loopback without errors, quickly, and serves wasm as application/wasm', async (t) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  let wasmType;
  page.on('response', (r) => {
    if (r.url().endsWith('.wasm')) wasmType = r.headers()['content-type'];
  });
  await page.goto(server.url);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 10_000 });
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return {
      domContentLoaded: nav.domContentLoadedEventEnd,
      load: nav.loadEventEnd,
      ready: performance.getEntriesByName('tombstone-ready')[0].startTime,
    };
  });
  t.diagnostic(`load event ${timing.load.toFixed(0)} ms, adapter ready ${timing.ready.toFixed(0)} ms after navigation start`);
  // A sanity bound only: on loopback this is well under a second (see the diagnostic above).
  assert.ok(timing.load < 3000, `load event after ${timing.load} ms`);
  assert.ok(timing.ready < 3000, `adapter ready after ${timing.ready} ms`);
  assert.equal(wasmType, 'application/wasm');
  assert.equal(await page.textContent('#result'), 'Paste a payload, drop a file, or choose an example.');
  // Every example the picker offers is there: one folder per source, and the broken ones.
  const options = await page.$$eval('#example option', (os) => os.map((o) => o.value).filter(Boolean));
  for (const dir of [...sampleDirs, 'invalid']) {
    assert.ok(options.some((o) => o.startsWith(`${dir}/`)), `no ${dir} example in ${options}`);
  }
  assert.deepEqual(problems, []);
  await context.close();
});

// The shared samples: every payload of the table's sample folders, each with the first case that
// uses it (its context typed into the inputs).
// One folder per source (a new source's samples come with it), not the broken or limit ones.
const sampleDirs = readdirSync(join(conformance, 'payloads')).filter((d) => !['invalid', 'limits'].includes(d)).sort();
const samples = sampleDirs.flatMap((dir) =>
  readdirSync(join(conformance, 'payloads', dir))
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => {
      const file = `payloads/${dir}/${n}`;
      const c = cases.find((k) => k.payload_file === file);
      assert.ok(c, `no case uses ${file}`);
      return { file, c };
    }),
);

test('the footer links the OpenAPI document, which the service serves', async (t) => {
  if (!process.env.PLAYGROUND_URL) {
    t.skip('needs the playground served by tombstone serve (PLAYGROUND_URL)');
    return;
  }
  const { context, page } = await open();
  const href = await page.$eval('#openapi', (a) => a.href);
  assert.equal(new URL(href).pathname, '/openapi.json');
  const response = await page.request.get(href);
  assert.equal(response.status(), 200);
  const doc = await response.json();
  assert.equal(doc.openapi, '3.1.0');
  assert.ok(doc.paths['/api/v1/invoice-deletions'].post, 'the canonical route is documented');
  await context.close();
});

test('every shared sample, pasted with its context, shows what the table expects', async (t) => {
  assert.ok(samples.length >= 12, `only ${samples.length} samples`);
  const { context, page, problems } = await open();
  for (const { file, c } of samples) {
    await t.test(file, async () => {
      const text = readFileSync(join(conformance, file), 'utf8');
      // Cleared first, so that an announcement left by the previous sample cannot pass for this one.
      await page.$eval('#announce', (el) => { el.textContent = ''; });
      const shown = await enter(page, c.context, text);
      assert.deepStrictEqual(shown, c.expect, `${c.name}: the output JSON`);
      assert.equal(await page.textContent('#announce'), await page.textContent('#status'), 'the outcome is announced');
      if (c.expect.conversion) {
        const x = c.expect.conversion;
        assert.equal(await page.getAttribute('#result', 'data-outcome'), 'conversion');
        if (!c.context.source || c.context.source === 'auto') {
          assert.equal(await page.textContent('#detected'), `detected: ${x.source}`);
        }
        assert.equal(await page.textContent('#task-id'), x.task_id);
        assert.equal(await page.textContent('#scheduled-for'), x.scheduled_for);
        const curl = await page.textContent('#curl');
        assert.match(curl, /^curl -X POST 'http:\/\/127\.0\.0\.1:3000\/api\/v1\/invoice-deletions' \\$/m);
        assert.ok(curl.includes(`-H 'Idempotency-Key: ${x.request.headers['Idempotency-Key']}'`), curl);
        assert.ok(curl.includes(`-H 'X-Organization-Id: ${x.request.headers['X-Organization-Id']}'`), curl);
        assert.ok(curl.includes(`-H 'Content-Type: application/json'`), curl);
        const body = curl.split('\n').slice(-2)[0];
        assert.deepStrictEqual(JSON.parse(body), x.request.body, 'the body in the curl command');
        assert.equal(curl.split('\n').at(-1), 'JSON');
        const warnings = await page.$$eval('#warnings button', (bs) => bs.map((b) => b.dataset.pointer));
        assert.deepStrictEqual(warnings, x.warnings.map((w) => w.pointer));
      } else {
        assert.equal(await page.getAttribute('#result', 'data-outcome'), 'problem');
        assert.equal(await page.textContent('#status'), `${c.expect.problem.status} ${c.expect.problem.title}`);
        const pointers = await page.$$eval('#problems button', (bs) => bs.map((b) => b.dataset.pointer));
        assert.deepStrictEqual(pointers, c.expect.problem.errors.map((e) => e.pointer));
      }
    });
  }
  assert.deepEqual(problems, []);
  await context.close();
});

test('the conformance table, run inside the page, prints every expected output byte for byte', async (t) => {
  assert.ok(cases.length >= 60, `only ${cases.length} cases`);
  const { context, page, problems } = await open();
  const input = cases.map((c) => ({ name: c.name, payload: payloadBytes(c).toString('base64'), context: c.context }));
  // Through adapter.js, the module the page itself uses; bytes exactly as the table gives them.
  const outputs = await page.evaluate(async (all) => {
    const adapter = await import(new URL('adapter.js', document.baseURI).href);
    await adapter.ready;
    const out = {};
    for (const c of all) {
      const bytes = Uint8Array.from(atob(c.payload), (ch) => ch.charCodeAt(0));
      out[c.name] = adapter.convertJson(bytes, c.context);
    }
    return out;
  }, input);
  for (const c of cases) {
    await t.test(c.name, () => {
      // The exact text: the case file keeps the wire order, so its compact form is the bytes
      // every runtime prints.
      assert.equal(outputs[c.name], JSON.stringify(c.expect));
    });
  }
  assert.deepEqual(problems, []);
  await context.close();
});

test('detect, taskId and schema through the page module', async () => {
  const { context, page } = await open();
  const got = await page.evaluate(async (mercoa) => {
    const a = await import(new URL('adapter.js', document.baseURI).href);
    return {
      detect: a.detect(mercoa),
      none: a.detect('{}') ?? null,
      taskId: a.taskId('org_123', '5f3b2a1c-9d8e-4f7a-b6c5-0e1d2c3b4a59'),
      bad: a.taskId('org 123', 'k'),
      names: a.schemaNames(),
      title: a.schema('canonical-request').title,
      missing: a.schema('nope') ?? null,
      sources: a.sources(),
      schemaForInvoice: a.schemaFor('{"webhook_type":"case_invoice.deleted"}'),
      schemaForcedItem: a.schemaFor('{"webhook_type":"case_invoice.deleted"}', 'mercoa'),
      schemaForNothing: a.schemaFor('{}') ?? null,
      // A context that is not the table's shape is the caller's bug: it throws.
      thrown: (() => {
        try {
          a.convert('{}', { organizationId: 'acme-vet' });
          return null;
        } catch (e) {
          return e.message;
        }
      })(),
    };
  }, readFileSync(join(conformance, 'payloads/mercoa/00-doc-example-verbatim.json'), 'utf8'));
  assert.equal(got.detect, 'mercoa');
  assert.equal(got.none, null);
  assert.deepStrictEqual(got.taskId, { task_id: 'af21b766d45b4c34ca723bc58150576076ef60b696347568de1f63d4b2220b60' });
  assert.equal(got.bad.problem.type, 'urn:tombstone:problem:invalid-header');
  assert.equal(got.bad.problem.errors[0].pointer, '/header/X-Organization-Id');
  // Every schema file the build embeds, and no other (a new event's schema needs no edit here).
  const files = readdirSync(join(root, 'schemas')).filter((f) => f.endsWith('.schema.json'));
  assert.deepStrictEqual([...got.names].sort(), files.map((f) => f.replace('.schema.json', '')).sort());
  assert.deepStrictEqual(got.sources.map((s) => s.name), ['mercoa', 'willsuite', 'highlevel', 'canonical']);
  assert.equal(got.sources[1].displayName, 'WillSuite');
  assert.ok(got.title.startsWith('Invoice deletions request'));
  assert.equal(got.missing, null);
  assert.equal(got.schemaForInvoice, 'willsuite-invoice');
  assert.equal(got.schemaForcedItem, 'mercoa');
  assert.equal(got.schemaForNothing, null);
  assert.match(got.thrown, /unknown field `organizationId`/);
  await context.close();
});

/** The text the editor's highlight marks, and the textarea's selected text. */
const marked = (page) => page.$eval('#backdrop mark', (m) => m.textContent).catch(() => null);
const selected = (page) =>
  page.$eval('#payload', (ta) => (document.activeElement === ta ? ta.value.slice(ta.selectionStart, ta.selectionEnd) : null));

test('a broken payload highlights the offending place, and a click on the problem selects it', async () => {
  const { context, page, problems } = await open();

  // The bundled broken example: a canonical request with a property the contract does not know.
  await page.selectOption('#example', 'invalid/canonical-unknown-field.json');
  await page.waitForSelector('#problems button');
  await settled(page);
  assert.equal(await page.inputValue('#key'), '5f3b2a1c-9d8e-4f7a-b6c5-0e1d2c3b4a59', 'a canonical example gets a demo key');
  assert.equal(await page.textContent('#status'), '422 Payload failed validation');
  const pointers = await page.$$eval('#problems button', (bs) => bs.map((b) => b.dataset.pointer));
  assert.deepStrictEqual(pointers, ['/invoices/0/amount']);
  assert.equal(await marked(page), '10', 'the offending value is marked');
  await page.click('#problems button[data-pointer="/invoices/0/amount"]');
  assert.equal(await selected(page), '10', 'a click selects the offending value in the editor');

  // A typed edit: a WillSuite invoice id that is a number.
  await page.fill('#key', '');
  const willsuite = readFileSync(join(conformance, 'payloads/willsuite/01-doc-example-verbatim.json'), 'utf8');
  const broken = willsuite.replace('"case_invoice_id": "510634bd-da51-448b-b06a-ab998e10670c"', '"case_invoice_id": 4711');
  assert.notEqual(broken, willsuite);
  await enter(page, { organization_id: 'acme-vet', clinic_id: 'clinic_42', received_at: '2026-01-01T00:00:00Z' }, broken);
  const errors = await page.$$eval('#problems button', (bs) => bs.map((b) => b.dataset.pointer));
  assert.ok(errors.includes('/invoice_item_data/case_invoice_id'), errors.join(', '));
  await page.click('#problems button[data-pointer="/invoice_item_data/case_invoice_id"]');
  assert.equal(await selected(page), '4711');
  assert.equal(await marked(page), '4711');

  // A missing required property marks its closest existing parent.
  await enter(page, { organization_id: 'acme-vet', source: 'mercoa', received_at: '2026-01-01T00:00:00Z' }, '{"eventType": "invoice.deleted", "invoice": {"payerId": "p"}}');
  await page.click('#problems button[data-pointer="/invoice/id"]');
  assert.equal(await selected(page), '{"payerId": "p"}');

  // Not JSON: the position serde_json names is marked.
  const notJson = readFileSync(join(conformance, 'payloads/invalid/mercoa/13-not-json.json'), 'utf8');
  await enter(page, { organization_id: 'acme-vet', received_at: '2026-01-01T00:00:00Z' }, notJson);
  assert.equal(await page.textContent('#status'), '400 Body is not valid JSON');
  assert.equal(await marked(page), notJson.at(-1));

  // A context problem points at its input instead of the payload.
  await enter(page, { organization_id: 'acme vet', clinic_id: 'clinic_42', received_at: '2026-01-01T00:00:00Z' }, willsuite);
  assert.equal(await page.getAttribute('#organization', 'aria-invalid'), 'true');
  await page.click('#problems button[data-pointer="/header/X-Organization-Id"]');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'organization');

  assert.deepEqual(problems, []);
  await context.close();
});

test('warnings are listed, and each highlights its place in the editor', async (t) => {
  const withWarnings = cases.filter((c) => c.payload !== undefined && c.expect.conversion?.warnings.length);
  assert.ok(withWarnings.length >= 3, `only ${withWarnings.length} cases with warnings`);
  const { context, page, problems } = await open();
  const at = (value, pointer) =>
    pointer.split('/').slice(1).reduce((v, token) => v[token.replaceAll('~1', '/').replaceAll('~0', '~')], value);
  for (const c of withWarnings) {
    await t.test(c.name, async () => {
      const shown = await enter(page, c.context, JSON.stringify(c.payload, null, 2));
      assert.deepStrictEqual(shown, c.expect);
      const listed = await page.$$eval('#warnings li', (lis) => lis.map((li) => li.textContent));
      assert.deepStrictEqual(listed, c.expect.conversion.warnings.map((w) => `${w.pointer} ${w.code}: ${w.message}`));
      for (const w of c.expect.conversion.warnings) {
        await page.click(`#warnings button[data-pointer="${w.pointer}"]`);
        assert.equal(await selected(page), JSON.stringify(at(c.payload, w.pointer)), w.pointer);
      }
    });
  }
  assert.deepEqual(problems, []);
  await context.close();
});

test('the keyboard reaches the example picker, the editor and every input, with visible focus', async () => {
  const { context, page, problems } = await open();
  const order = [];
  const outlines = {};
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press('Tab');
    const [id, outline] = await page.evaluate(() => [document.activeElement.id, getComputedStyle(document.activeElement).outlineStyle]);
    if (id && !order.includes(id)) {
      order.push(id);
      outlines[id] = outline;
    }
  }
  const wanted = ['example', 'file', 'payload', 'source', 'organization', 'clinic', 'key', 'received-at', 'delay', 'endpoint'];
  assert.deepStrictEqual(order.filter((id) => wanted.includes(id)), wanted, `tab order: ${order}`);
  for (const id of wanted) assert.notEqual(outlines[id], 'none', `#${id} shows no focus`);

  // Choose an example with the keyboard alone, then reach the result.
  await page.focus('#example');
  await page.keyboard.press('ArrowDown');
  await page.waitForSelector('#result[data-outcome]');
  assert.notEqual(await page.inputValue('#payload'), '');
  assert.deepEqual(problems, []);
  await context.close();
});

test('a dropped file is converted', async () => {
  const { context, page, problems } = await open();
  const text = readFileSync(join(conformance, 'payloads/highlevel/01-webhook-doc-example-verbatim.json'), 'utf8');
  const transfer = await page.evaluateHandle((t) => {
    const dt = new DataTransfer();
    dt.items.add(new File([t], 'webhook.json', { type: 'application/json' }));
    return dt;
  }, text);
  await page.dispatchEvent('#editor', 'drop', { dataTransfer: transfer });
  await page.waitForSelector('#result[data-outcome="conversion"]');
  assert.equal(await page.inputValue('#payload'), text);
  assert.equal(await page.textContent('#detected'), 'detected: highlevel');
  assert.deepEqual(problems, []);
  await context.close();
});

test('a payload pasted from the clipboard is converted', async () => {
  const { context, page, problems } = await open();
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url.replace(/\/$/, '') });
  const text = readFileSync(join(conformance, 'payloads/willsuite/02-vat-20pct-single-item.json'), 'utf8');
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  await page.focus('#payload');
  await page.keyboard.press('Control+V');
  await page.waitForSelector('#result[data-outcome="conversion"]');
  assert.equal(await page.inputValue('#payload'), text);
  assert.equal(await page.textContent('#detected'), 'detected: willsuite');
  assert.deepEqual(problems, []);
  await context.close();
});

test('works offline once loaded', async () => {
  const { context, page, problems } = await open();
  await page.evaluate(() => navigator.serviceWorker.ready);
  // The worker controls the page after a reload; then the network goes away.
  await page.reload();
  await page.waitForSelector('html[data-ready="true"]');
  assert.ok(await page.evaluate(() => navigator.serviceWorker.controller !== null), 'the service worker controls the page');
  await context.setOffline(true);
  await page.reload();
  await page.waitForSelector('html[data-ready="true"]', { timeout: 10_000 });
  await page.selectOption('#example', 'mercoa/00-doc-example-verbatim.json');
  await page.waitForSelector('#result[data-outcome="conversion"]');
  assert.equal(await page.textContent('#detected'), 'detected: mercoa');
  await context.setOffline(false);
  // Offline, the first failed network attempt per request is expected and not an error of the page.
  assert.deepEqual(problems.filter((p) => !p.includes('ERR_INTERNET_DISCONNECTED')), []);
  await context.close();
});

test('a screenshot of the playground (target/playground.png)', async () => {
  const { context, page, problems } = await open({ viewport: { width: 1280, height: 860 } });
  const text = readFileSync(join(conformance, 'payloads/mercoa/00-doc-example-verbatim.json'), 'utf8');
  await enter(page, { organization_id: 'acme-vet', received_at: '2026-01-01T00:00:00Z', delay_seconds: 300 }, text);
  assert.equal(await page.getAttribute('#result', 'data-outcome'), 'conversion');
  assert.equal(await page.textContent('#scheduled-for'), '2026-01-01T00:05:00Z');
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'playground.png') });
  // And one of a rejected payload, with its pointer highlighted.
  await page.selectOption('#example', 'invalid/canonical-unknown-field.json');
  await page.waitForSelector('#problems button');
  await page.click('#problems button');
  await page.screenshot({ path: join(artifacts, 'playground-problem.png') });
  assert.deepEqual(problems, []);
  await context.close();
});
