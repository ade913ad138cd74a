// Runs the browser example: serves the page (this folder), the web module (www/pkg/, built by
// scripts/web.sh), the conformance table (tests/conformance/) and the list of its cases
// (cases.json) from a tiny loopback server, opens the page in Debian's /usr/bin/chromium
// (headless, driven by playwright-core: no browser download) and prints the page's lines.
//   npm ci && node run.mjs [REPO]   (REPO: default ../..; CHROMIUM overrides the browser)
import { createServer } from 'node:http';
import { readFile, readdir } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(process.argv[2] ?? join(here, '..', '..'));
const conformance = join(root, 'tests', 'conformance');
const names = (await readdir(join(conformance, 'cases'))).filter((n) => n.endsWith('.json')).sort();

// URL prefix → folder; cases.json is made here.
const mounts = [['/pkg/', join(root, 'www', 'pkg')], ['/conformance/', conformance], ['/', here]];
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm' };
const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  if (path === '/cases.json') return res.writeHead(200, { 'content-type': TYPES['.json'] }).end(JSON.stringify(names));
  const [prefix, dir] = mounts.find(([p]) => path.startsWith(p));
  const file = normalize(join(dir, path.slice(prefix.length) || 'index.html'));
  if (!file.startsWith(dir + sep)) return res.writeHead(403).end();
  try {
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const url = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let result;
try {
  const page = await browser.newPage();
  // An error in the page (a missing file, an exception) ends the run at once.
  const failure = new Promise((_, fail) => {
    page.on('pageerror', (e) => fail(new Error(`page error: ${e.message}`)));
    page.on('requestfailed', (r) => fail(new Error(`request failed: ${r.url()}`)));
    page.on('response', (r) => r.ok() || fail(new Error(`HTTP ${r.status()}: ${r.url()}`)));
  });
  failure.catch(() => {}); // once the page is done, a later error is not the run's
  await page.goto(url);
  await Promise.race([page.waitForSelector('body[data-result]', { timeout: 120_000 }), failure]);
  console.log(await page.textContent('#log'));
  result = await page.getAttribute('body', 'data-result');
} catch (e) {
  console.error(`the page did not finish: ${e.message}`);
} finally {
  await browser.close();
  server.close();
}
process.exitCode = result === `${names.length} passed, 0 failed` ? 0 : 1;
