// Keeps the playground working offline once it has loaded: every request for the page's own
// files goes to the network first (so a new deployment is picked up at once) and falls back to
// the copy cached on the last successful load. Every asset is local; nothing else is fetched.
const CACHE = 'tombstone-playground-v1';
const ASSETS = [
  './',
  'index.html',
  'style.css',
  'app.js',
  'adapter.js',
  'pointer.js',
  'pkg/tombstone_web.js',
  'pkg/tombstone_web_bg.wasm',
  'examples/index.json',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(ASSETS);
      // The examples too, so the picker works offline.
      const files = await (await fetch('examples/index.json')).json();
      await cache.addAll(files.map((f) => `examples/${f}`));
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) return;
  event.respondWith(
    (async () => {
      try {
        const response = await fetch(request);
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      } catch (error) {
        const cached = await caches.match(request, { ignoreSearch: true });
        if (cached) return cached;
        throw error;
      }
    })(),
  );
});
