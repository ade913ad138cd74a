// The playground page: reads the editor and the context inputs, runs the adapter core
// (adapter.js → WebAssembly) on every edit, and renders the conversion as a curl command or the
// problems as a list whose JSON Pointers highlight the place in the editor. Rendering only: every
// rule is in the core.
import * as adapter from './adapter.js';
import { locate, syntaxErrorOffset } from './pointer.js';

const $ = (id) => document.getElementById(id);
const ui = {
  example: $('example'),
  file: $('file'),
  payload: $('payload'),
  backdrop: $('backdrop'),
  note: $('highlight-note'),
  source: $('source'),
  detected: $('detected'),
  organization: $('organization'),
  clinic: $('clinic'),
  key: $('key'),
  receivedAt: $('received-at'),
  delay: $('delay'),
  endpoint: $('endpoint'),
  result: $('result'),
  announce: $('announce'),
  warnings: $('warnings'),
  outputJson: $('output-json'),
  schemaSummary: $('schema-summary'),
  schema: $('schema'),
};

// Context pointers name inputs, not payload text.
const contextInputs = {
  '/header/X-Organization-Id': ui.organization,
  '/header/Idempotency-Key': ui.key,
  '/context/organization_id': ui.organization,
  '/context/clinic_id': ui.clinic,
  '/context/idempotency_key': ui.key,
  '/context/source': ui.source,
  '/context/received_at': ui.receivedAt,
  '/context/delay_seconds': ui.delay,
};

// A demo key for canonical examples (a canonical request must carry its own key): the contract's (docs/contract.md).
const DEMO_KEY = '5f3b2a1c-9d8e-4f7a-b6c5-0e1d2c3b4a59';
// Example groups, named after the sources (the core's list) and the broken ones; filled at start.
const GROUPS = {};

/** The delivery context from the inputs, in the core's RawContext shape. */
export function context() {
  // Values go to the core as typed (it trims and checks them, as for any gateway); only an empty
  // input means "not given".
  const text = (input) => (input.value === '' ? undefined : input.value);
  const delay = ui.delay.value.trim();
  return {
    organization_id: text(ui.organization),
    clinic_id: text(ui.clinic),
    idempotency_key: text(ui.key),
    source: ui.source.value,
    // The core reads no clock: the page supplies "now" unless a time is given.
    received_at: text(ui.receivedAt) ?? new Date().toISOString(),
    delay_seconds: /^\d+$/.test(delay) ? Number(delay) : undefined,
  };
}

/** Runs the core on the editor's text and renders the outcome. */
export function update() {
  const text = ui.payload.value;
  const detected = text.trim() === '' ? undefined : adapter.detect(text);
  ui.detected.textContent = detected ? `detected: ${detected}` : text.trim() === '' ? '' : 'detected: none';
  ui.detected.dataset.source = detected ?? '';
  renderSchema(text);
  clearInvalid();
  // The core takes a whole number of seconds; anything else is flagged here and left out.
  if (!/^\d*$/.test(ui.delay.value.trim()) || ui.delay.validity.badInput) ui.delay.setAttribute('aria-invalid', 'true');
  if (text.trim() === '') {
    ui.result.replaceChildren(para('hint', 'Paste a payload, drop a file, or choose an example.'));
    ui.warnings.replaceChildren();
    ui.outputJson.textContent = '';
    highlight(null);
    return;
  }
  const outcome = adapter.convert(text, context());
  ui.outputJson.textContent = JSON.stringify(outcome, null, 2);
  if (outcome.conversion) renderConversion(outcome.conversion);
  else renderProblem(outcome.problem);
  // Screen readers hear the outcome when it changes, not the whole frame on every keystroke.
  const summary = document.getElementById('status').textContent;
  if (ui.announce.textContent !== summary) ui.announce.textContent = summary;
}

function renderConversion(c) {
  const body = c.request.body;
  const frame = [];
  const status = para('status ok', `${c.source} → ${c.invoices_count} invoice${c.invoices_count === 1 ? '' : 's'}, ${c.invoice_lines_count} invoice line${c.invoice_lines_count === 1 ? '' : 's'}`);
  status.id = 'status';
  frame.push(status);
  const facts = document.createElement('dl');
  facts.className = 'facts';
  for (const [label, id, value] of [
    ['Task id', 'task-id', c.task_id],
    ['Scheduled for', 'scheduled-for', c.scheduled_for],
    ['Received at', 'received-at-out', c.received_at],
    ['Idempotency-Key', 'key-out', c.request.headers['Idempotency-Key']],
  ]) {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.id = id;
    dd.textContent = value;
    facts.append(dt, dd);
  }
  frame.push(facts);
  const curlLabel = para('label', 'The canonical request, ready to send:');
  const pre = document.createElement('pre');
  pre.id = 'curl';
  pre.tabIndex = 0;
  pre.setAttribute('aria-label', 'curl command');
  pre.textContent = curl(c, body);
  const copy = document.createElement('button');
  copy.type = 'button';
  copy.textContent = 'Copy curl command';
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(pre.textContent);
      copy.textContent = 'Copied';
    } catch {
      // No clipboard permission (an insecure origin, a headless browser): select the text.
      getSelection().selectAllChildren(pre);
      copy.textContent = 'Selected: press Ctrl+C';
    }
    setTimeout(() => (copy.textContent = 'Copy curl command'), 1500);
  });
  frame.push(curlLabel, pre, copy);
  ui.result.dataset.outcome = 'conversion';
  ui.result.replaceChildren(...frame);
  renderFindings(ui.warnings, c.warnings, (w) => `${w.code}: ${w.message}`);
  highlight(c.warnings.length ? c.warnings[0].pointer : null, { soft: true });
}

function renderProblem(p) {
  const status = para('status bad', `${p.status} ${p.title}`);
  status.id = 'status';
  const detail = para('detail', p.detail);
  const list = document.createElement('ul');
  list.id = 'problems';
  list.className = 'findings';
  renderFindings(list, p.errors, (e) => `${e.keyword}: ${e.message}`);
  ui.result.dataset.outcome = 'problem';
  ui.result.replaceChildren(status, detail, list);
  ui.warnings.replaceChildren();
  for (const e of p.errors) markInvalid(e.pointer);
  highlight(p.errors.length ? p.errors[0].pointer : null, { soft: true, message: p.errors[0]?.message });
}

/** A list of {pointer, …} findings, each a button that highlights its pointer. */
function renderFindings(list, findings, describe) {
  list.replaceChildren(
    ...findings.map((f) => {
      const li = document.createElement('li');
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'pointer';
      button.dataset.pointer = f.pointer;
      const code = document.createElement('code');
      code.textContent = f.pointer === '' ? '(whole payload)' : f.pointer;
      button.append(code);
      button.setAttribute('aria-label', `Show ${f.pointer === '' ? 'the whole payload' : f.pointer} in the editor`);
      button.addEventListener('click', () => highlight(f.pointer, { message: f.message }));
      const text = document.createElement('span');
      text.textContent = ` ${describe(f)}`;
      li.append(button, text);
      return li;
    }),
  );
}

// POSIX shell single quotes: everything literal, a ' written as '\''.
const shellQuote = (s) => `'${String(s).replaceAll("'", "'\\''")}'`;

/** The request as a curl command; the body goes through a quoted heredoc, so nothing in it is
 * expanded by the shell (the compact JSON is one line and can never equal the delimiter). */
export function curl(c, body = c.request.body) {
  const base = (ui.endpoint.value.trim() || 'http://127.0.0.1:3000').replace(/\/+$/, '');
  return [
    `curl -X ${c.request.method} ${shellQuote(base + c.request.path)} \\`,
    `  -H 'Content-Type: application/json' \\`,
    `  -H ${shellQuote(`Idempotency-Key: ${c.request.headers['Idempotency-Key']}`)} \\`,
    `  -H ${shellQuote(`X-Organization-Id: ${c.request.headers['X-Organization-Id']}`)} \\`,
    `  --data-binary @- <<'JSON'`,
    JSON.stringify(body),
    'JSON',
  ].join('\n');
}

function renderSchema(text) {
  const name = text.trim() === '' ? undefined : adapter.schemaFor(text, ui.source.value);
  ui.schemaSummary.textContent = name ? `JSON Schema: ${name}` : 'JSON Schema (no source detected)';
  ui.schema.textContent = name ? JSON.stringify(adapter.schema(name), null, 2) : '';
}

function clearInvalid() {
  for (const input of new Set(Object.values(contextInputs))) input.removeAttribute('aria-invalid');
  ui.payload.removeAttribute('aria-invalid');
}

function markInvalid(pointer) {
  const input = contextInputs[pointer];
  (input ?? ui.payload).setAttribute('aria-invalid', 'true');
}

/** The range a finding's pointer names in the editor's text, or `null`. */
export function rangeOf(pointer, message) {
  const text = ui.payload.value;
  const found = locate(text, pointer);
  if (found) return found;
  // Not JSON: serde_json's message names the line and column instead.
  const at = message ? syntaxErrorOffset(text, message) : null;
  if (at === null) return null;
  const start = Math.min(at, Math.max(0, text.length - 1));
  return { start, end: Math.min(text.length, start + 1), exact: false };
}

/** Marks the place `pointer` names: a <mark> in the backdrop always; with `soft` unset (a click)
 * also the textarea's selection, with focus, so the place is scrolled into view and announced. */
function highlight(pointer, { soft = false, message } = {}) {
  const text = ui.payload.value;
  if (pointer === null || pointer === undefined) {
    ui.backdrop.replaceChildren(document.createTextNode(text + '\n'));
    ui.note.textContent = '';
    delete ui.payload.dataset.highlight;
    return;
  }
  const input = contextInputs[pointer];
  if (input) {
    ui.backdrop.replaceChildren(document.createTextNode(text + '\n'));
    ui.note.textContent = `${pointer} is a context value: see the highlighted input.`;
    if (!soft) input.focus();
    return;
  }
  const range = rangeOf(pointer, message);
  if (!range) {
    ui.backdrop.replaceChildren(document.createTextNode(text + '\n'));
    ui.note.textContent = '';
    return;
  }
  const mark = document.createElement('mark');
  mark.textContent = text.slice(range.start, range.end);
  ui.backdrop.replaceChildren(
    document.createTextNode(text.slice(0, range.start)),
    mark,
    document.createTextNode(text.slice(range.end) + '\n'),
  );
  ui.payload.dataset.highlight = `${range.start}-${range.end}`;
  const where = pointer === '' ? 'the whole payload' : pointer;
  ui.note.textContent = range.exact ? `Highlighted: ${where}.` : `Highlighted: ${where} is missing here; its closest existing parent is marked.`;
  syncScroll();
  if (!soft) {
    ui.payload.focus();
    ui.payload.setSelectionRange(range.start, range.end);
    // Bring the mark into view: the textarea scrolls to the selection on focus in most
    // browsers; the backdrop follows.
    const line = text.slice(0, range.start).split('\n').length - 1;
    const lineHeight = parseFloat(getComputedStyle(ui.payload).lineHeight) || 18;
    ui.payload.scrollTop = Math.max(0, line * lineHeight - ui.payload.clientHeight / 3);
    syncScroll();
  }
}

function syncScroll() {
  ui.backdrop.scrollTop = ui.payload.scrollTop;
  ui.backdrop.scrollLeft = ui.payload.scrollLeft;
}

function para(className, text) {
  const p = document.createElement('p');
  p.className = className;
  p.textContent = text;
  return p;
}

async function loadExamples() {
  let files = [];
  try {
    const response = await fetch('examples/index.json');
    if (response.ok) files = await response.json();
  } catch {
    // Offline before the first load: no examples, the editor still works.
  }
  const groups = new Map();
  for (const file of files) {
    const group = file.split('/')[0];
    if (!groups.has(group)) {
      const og = document.createElement('optgroup');
      og.label = GROUPS[group] ?? group;
      groups.set(group, og);
    }
    const option = document.createElement('option');
    option.value = file;
    option.textContent = `${GROUPS[group] ?? group} · ${file.split('/').slice(1).join('/').replace(/\.json$/, '')}`;
    groups.get(group).append(option);
  }
  for (const group of Object.keys(GROUPS)) if (groups.has(group)) ui.example.append(groups.get(group));
}

async function pickExample() {
  const file = ui.example.value;
  if (!file) return;
  const response = await fetch(`examples/${file}`);
  const text = await response.text();
  // A canonical request must carry its own key; give an example one so it converts.
  if (adapter.detect(text) === 'canonical' && ui.key.value === '') ui.key.value = DEMO_KEY;
  setPayload(text);
}

function setPayload(text) {
  ui.payload.value = text;
  ui.payload.scrollTop = 0;
  update();
}

async function readFile(file) {
  if (file) setPayload(await file.text());
}

let pending = 0;
function scheduleUpdate() {
  // Coalesce a burst of keystrokes into one conversion per frame.
  cancelAnimationFrame(pending);
  pending = requestAnimationFrame(update);
}

function wire() {
  ui.payload.addEventListener('input', scheduleUpdate);
  ui.payload.addEventListener('scroll', syncScroll);
  for (const input of [ui.organization, ui.clinic, ui.key, ui.receivedAt, ui.delay, ui.endpoint]) {
    input.addEventListener('input', scheduleUpdate);
  }
  ui.source.addEventListener('change', update);
  ui.example.addEventListener('change', pickExample);
  ui.file.addEventListener('change', () => readFile(ui.file.files[0]));
  const editor = $('editor');
  editor.addEventListener('dragover', (e) => {
    e.preventDefault();
    editor.classList.add('drop');
  });
  editor.addEventListener('dragleave', () => editor.classList.remove('drop'));
  editor.addEventListener('drop', (e) => {
    e.preventDefault();
    editor.classList.remove('drop');
    const file = e.dataTransfer?.files?.[0];
    if (file) readFile(file);
    else setPayload(e.dataTransfer?.getData('text/plain') ?? '');
  });
  new ResizeObserver(syncScroll).observe(ui.payload);
}

/** The source menu and the example groups, from the core's list of sources. */
function listSources() {
  for (const { name, displayName } of adapter.sources()) {
    const option = document.createElement('option');
    option.value = name;
    option.textContent = displayName;
    ui.source.append(option);
    GROUPS[name] = displayName;
  }
  GROUPS.invalid = 'Broken';
}

async function main() {
  await adapter.ready;
  listSources();
  await loadExamples();
  wire();
  update();
  document.documentElement.dataset.ready = 'true';
  performance.mark('tombstone-ready');
  if ('serviceWorker' in navigator && window.isSecureContext) {
    // Network first, cache as a fallback: the page keeps working offline once loaded.
    navigator.serviceWorker.register('sw.js').catch(() => {});
  }
}

main();
