// tombstone on Cloudflare Workers: the JavaScript shell around the tombstone-workers module
// (adapter/workers), which is tombstone-edge unchanged. This file only does I/O:
//
// - reads the request body, at most the route's limit + 1 bytes, within body_timeout_ms;
// - gives the module its store: in relay mode (upstream_url set) Workers KV (binding
//   TOMBSTONE_KV); in store mode a Durable Object's storage (binding TOMBSTONE_STORE, one object
//   for the whole service), where a request's reads and writes run with no other request between
//   them, so each deletion is scheduled exactly once (docs/workers.md says what holds where);
// - sends relay mode's deliveries with fetch, and runs the dispatcher after the response
//   (ctx.waitUntil), as Spin does once the response is complete, and on a Cron Trigger;
// - reads the configuration from the Worker's vars and secrets, named as the Spin variables.
//
// The module's ports are synchronous (Spin's are); Workers' I/O returns promises. The I/O imports
// are wrapped in WebAssembly.Suspending and the exports that reach them in WebAssembly.promising
// (JavaScript Promise Integration): the module waits for each answer, as on Spin. The ABI is in
// adapter/workers/src/abi.rs. An instance serves one request at a time (a request suspended in
// it keeps its stack in the instance's memory); an idle one is reused, since a fresh one costs
// about 2.7 ms here against 0.15 ms for a conversion.
import { DurableObject } from 'cloudflare:workers';
import wasmModule from '../build/tombstone_workers.wasm';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// A frame: 4 bytes little-endian (the head's length), the head as JSON, the body's bytes.
function frame(head, body) {
  const json = encoder.encode(JSON.stringify(head));
  const out = new Uint8Array(4 + json.length + body.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  out.set(body, 4 + json.length);
  return out;
}

function unframe(bytes) {
  const length = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  return [JSON.parse(decoder.decode(bytes.subarray(4, 4 + length))), bytes.subarray(4 + length)];
}

// Reads a stream to its end, refusing more than `limit` bytes (`null` then).
async function readAtMost(stream, limit) {
  const chunks = [];
  let length = 0;
  if (stream) {
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.length;
      if (length > limit) {
        await drain(reader);
        return null;
      }
      chunks.push(value);
    }
  }
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

// Reads the rest of a refused body without keeping it, up to DRAIN_BYTES: workerd's dev proxy
// (wrangler dev) fails the next request on a connection whose request body was cancelled part
// way. Past DRAIN_BYTES the stream is cancelled after all.
const DRAIN_BYTES = 16 * 1024 * 1024;
async function drain(reader) {
  let drained = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    drained += value.length;
    if (drained > DRAIN_BYTES) {
      await reader.cancel().catch(() => {});
      return;
    }
  }
}

// Resolves after `ms` with `value`, and its timer.
function after(ms, value) {
  let timer;
  const promise = new Promise((resolve) => {
    timer = setTimeout(() => resolve(value), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

class Failure extends Error {
  constructor(kind, message) {
    super(JSON.stringify({ kind, message }));
  }
}

// Relay mode's outbound request: the whole exchange within timeout_ms.
async function sendUpstream(bytes) {
  const [head, body] = unframe(bytes);
  const signal = AbortSignal.timeout(head.timeout_ms);
  const failed = (e) =>
    e?.name === 'TimeoutError' || signal.aborted
      ? new Failure('timeout', 'no answer in time')
      : new Failure('failed', String(e?.message ?? e));
  let response;
  try {
    response = await fetch(head.url, { method: 'POST', headers: head.headers, body, signal, redirect: 'manual' });
  } catch (e) {
    throw signal.aborted ? failed(e) : new Failure('unreachable', String(e?.message ?? e));
  }
  let answer;
  try {
    answer = await readAtMost(response.body, head.max_response_bytes);
  } catch (e) {
    throw failed(e);
  }
  if (answer === null) throw new Failure('too-large', 'the answer is too long');
  return frame({ status: response.status, headers: [...response.headers] }, answer);
}

// Workers KV (relay mode). Eventually consistent, and no atomic increment: a read, then a write.
class WorkersKv {
  constructor(namespace) {
    this.kv = namespace;
  }
  async get(key) {
    const value = await this.kv.get(key, 'arrayBuffer');
    return value === null ? null : new Uint8Array(value);
  }
  put(key, value) {
    return this.kv.put(key, value);
  }
  delete(key) {
    return this.kv.delete(key);
  }
  async increment(key, delta) {
    const next = counter(await this.get(key), delta);
    if (next !== null) await this.kv.put(key, String(next));
    return next;
  }
  async list(cursor) {
    const page = await this.kv.list(cursor === null ? {} : { cursor });
    return { keys: page.keys.map((k) => k.name), next: page.list_complete ? null : page.cursor };
  }
}

// A Durable Object's SQLite-backed storage, through its synchronous key-value API: nothing here
// waits, so a request's reads and writes run with no other request's between them.
class DurableStorage {
  constructor(storage) {
    this.kv = storage.kv;
  }
  get(key) {
    const value = this.kv.get(key);
    return value === undefined ? null : new Uint8Array(value);
  }
  put(key, value) {
    this.kv.put(key, value);
  }
  delete(key) {
    this.kv.delete(key);
  }
  increment(key, delta) {
    const next = counter(this.get(key), delta);
    if (next !== null) this.kv.put(key, encoder.encode(String(next)));
    return next;
  }
  list(cursor) {
    const limit = 1000;
    const keys = [...this.kv.list(cursor === null ? { limit } : { startAfter: cursor, limit })].map(([k]) => k);
    return { keys, next: keys.length === limit ? keys[keys.length - 1] : null };
  }
}

// A counter's next value (decimal text, as Spin's Redis store keeps it); null: not a counter.
function counter(bytes, delta) {
  if (bytes === null) return delta;
  const text = decoder.decode(bytes);
  return /^-?[0-9]+$/.test(text) ? Number(text) + delta : null;
}

// The instances no request is using.
const idle = [];

// An instance for one request, its imports over `store` and the Worker's `env`; give it back with
// `release()` once the request's work (the dispatcher's too) is done.
function takeInstance(env, store) {
  const module = idle.pop() ?? instantiate();
  module.use(env, store);
  return module;
}

// One instance of the module. A call that throws (a trap) retires it: it is never given back.
function instantiate() {
  let env;
  let store;
  let broken = false;
  let memory;
  let pending = new Uint8Array(0);
  const view = (ptr, len) => new Uint8Array(memory.buffer, ptr, len);
  const text = (ptr, len) => decoder.decode(view(ptr, len));
  const value = (bytes) => {
    pending = bytes;
    return bytes.length;
  };
  const failure = (e) => {
    pending = encoder.encode(e instanceof Failure ? e.message : String(e?.message ?? e));
    return -2 - pending.length;
  };
  // An I/O import: `io` answers a value or a promise of one; a promise suspends the module.
  const suspending = (io) =>
    new WebAssembly.Suspending((...args) => {
      try {
        const answer = io(...args);
        return answer instanceof Promise ? answer.catch(failure) : answer;
      } catch (e) {
        return failure(e);
      }
    });
  const settle = (answer, then) => (answer instanceof Promise ? answer.then(then) : then(answer));
  const tombstone = {
    kv_get: suspending((kp, kl) => settle(store.get(text(kp, kl)), (v) => (v === null ? -1 : value(v)))),
    kv_set: suspending((kp, kl, vp, vl) => settle(store.put(text(kp, kl), view(vp, vl).slice()), () => value(new Uint8Array(0)))),
    kv_delete: suspending((kp, kl) => settle(store.delete(text(kp, kl)), () => value(new Uint8Array(0)))),
    kv_increment: suspending((kp, kl, delta) =>
      settle(store.increment(text(kp, kl), Number(delta)), (n) => (n === null ? -1 : value(encoder.encode(String(n))))),
    ),
    kv_list: suspending((cp, cl, has) =>
      settle(store.list(has ? text(cp, cl) : null), (page) => value(encoder.encode(JSON.stringify(page)))),
    ),
    upstream_send: suspending((rp, rl) => sendUpstream(view(rp, rl).slice()).then(value)),
    var_get: (np, nl) => {
      const v = env[text(np, nl)];
      return typeof v === 'string' ? value(encoder.encode(v)) : -1;
    },
    now_ms: () => Date.now(),
    log: (p, l) => console.log(text(p, l)),
    take_result: (ptr) => view(ptr, pending.length).set(pending),
    random_fill: (p, l) => {
      crypto.getRandomValues(view(p, l));
    },
  };
  const { exports } = new WebAssembly.Instance(wasmModule, { tombstone });
  memory = exports.memory;
  const put = (bytes) => view(exports.input(bytes.length), bytes.length).set(bytes);
  const output = (len) => view(exports.output(), len).slice();
  const handle = WebAssembly.promising(exports.handle);
  const afterResponse = WebAssembly.promising(exports.after_response);
  const guarded = (call) => (...args) => {
    try {
      const answer = call(...args);
      return answer instanceof Promise ? answer.catch((e) => { broken = true; throw e; }) : answer;
    } catch (e) {
      broken = true;
      throw e;
    }
  };
  return {
    use(requestEnv, requestStore) {
      env = requestEnv;
      store = requestStore;
    },
    release() {
      env = store = undefined;
      if (!broken) idle.push(this);
    },
    handle: guarded(async (bytes) => {
      put(bytes);
      return output(await handle(bytes.length));
    }),
    refuse: guarded((refusal) => {
      const bytes = encoder.encode(JSON.stringify(refusal));
      put(bytes);
      return output(exports.refuse(bytes.length));
    }),
    bodyLimit: guarded((path) => {
      const bytes = encoder.encode(path);
      put(bytes);
      return exports.body_limit(bytes.length);
    }),
    bodyTimeoutMs: guarded(() => exports.body_timeout_ms()),
    usesStore: guarded((path) => {
      const bytes = encoder.encode(path);
      put(bytes);
      return exports.uses_store(bytes.length) === 1;
    }),
    afterResponse: guarded(() => afterResponse()),
  };
}

function toResponse(bytes) {
  const [head, body] = unframe(bytes);
  const empty = [101, 204, 205, 304].includes(head.status);
  return new Response(empty ? null : body, { status: head.status, headers: head.headers });
}

// Reads a request's body: at most the route's limit + 1 bytes, within body_timeout_ms. The
// head and the body, or the answer to a body that was not read (413, 408, 400).
async function readRequest(request, module) {
  const url = new URL(request.url);
  // The raw path: the edge crate percent-decodes each segment itself.
  const path = url.pathname;
  const declared = request.headers.get('content-length');
  const declaredLength = declared !== null && /^[0-9]+$/.test(declared.trim()) ? Number(declared) : null;
  const timeout = after(module.bodyTimeoutMs(), 'too-slow');
  let body;
  try {
    body = await Promise.race([readAtMost(request.body, module.bodyLimit(path)), timeout.promise]);
  } catch {
    body = 'unreadable';
  } finally {
    timeout.cancel();
  }
  if (body === null) body = 'too-large';
  if (typeof body === 'string') {
    return toResponse(module.refuse({ path, reason: body, declared_length: declaredLength }));
  }
  const head = { method: request.method, path, query: url.search.replace(/^\?/, ''), headers: [...request.headers] };
  return { head, body };
}

// One request, handled with `store`; `waitUntil` keeps the dispatcher running after it.
async function serve(request, env, store, waitUntil) {
  const module = takeInstance(env, store);
  let response;
  try {
    const read = await readRequest(request, module);
    if (read instanceof Response) {
      module.release();
      return read;
    }
    response = toResponse(await module.handle(frame(read.head, read.body)));
  } catch (e) {
    module.release();
    throw e;
  }
  // After the response: relay mode's dispatcher, in this request's instance.
  waitUntil(
    new Promise((resolve) => setTimeout(resolve, 0))
      .then(() => module.afterResponse())
      .finally(() => module.release()),
  );
  return response;
}

function relayMode(env) {
  return typeof env.upstream_url === 'string' && env.upstream_url.trim() !== '';
}

export default {
  async fetch(request, env, ctx) {
    if (relayMode(env)) {
      return serve(request, env, new WorkersKv(env.TOMBSTONE_KV), (p) => ctx.waitUntil(p));
    }
    // Store mode: every request whose route reads or writes the store goes to the one Durable
    // Object, where each deletion is scheduled exactly once; the others are answered here. The
    // body is read here, within its limits, and handed on whole (a stream the object stopped
    // reading part way would fail the request).
    const reader = takeInstance(env, null);
    if (!reader.usesStore(new URL(request.url).pathname)) {
      reader.release();
      return serve(request, env, null, (p) => ctx.waitUntil(p));
    }
    const read = await readRequest(request, reader).finally(() => reader.release());
    if (read instanceof Response) return read;
    const stub = env.TOMBSTONE_STORE.get(env.TOMBSTONE_STORE.idFromName('tombstone'));
    const { method, headers } = request;
    return stub.fetch(request.url, { method, headers, body: read.body.length > 0 ? read.body : null });
  },

  // The Cron Trigger (wrangler.toml): relay mode's dispatcher with no request to follow, so a
  // queued delivery is re-driven when no traffic comes.
  async scheduled(controller, env, ctx) {
    if (!relayMode(env)) return;
    const module = takeInstance(env, new WorkersKv(env.TOMBSTONE_KV));
    ctx.waitUntil(module.afterResponse().finally(() => module.release()));
  },
};

/** Store mode's state: one object, its SQLite-backed storage. */
export class TombstoneStore extends DurableObject {
  async fetch(request) {
    return serve(request, this.env, new DurableStorage(this.ctx.storage), (p) => this.ctx.waitUntil(p));
  }
}
