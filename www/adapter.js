// The adapter core in the browser: tombstone-web (adapter/web) built by scripts/web.sh into
// ./pkg/. The page and the browser tests both go through this module, so the tests exercise
// exactly what the page runs. Every URL is relative to this file: any mount path works.
//
// Shapes (see adapter/web/src/lib.rs):
//   convert(bytes, context) → {conversion: {…}} | {problem: {…}}   (a conformance case's `expect`)
//   convertJson(bytes, context) → the same as its exact JSON text (what every runtime prints)
//   detect(bytes) → 'mercoa' | 'willsuite' | 'highlevel' | 'canonical' | undefined
//   taskId(organizationId, idempotencyKey) → {task_id} | {problem}
//   schema(name) → object | undefined; schemaNames() → string[]
//   schemaFor(bytes, source?) → the name of the schema the payload is held to | undefined
//   sources() → [{name, displayName}], every source in detection order
import init, * as wasm from './pkg/tombstone_web.js';

/** Resolves once the module is compiled and instantiated. */
export const ready = init({ module_or_path: new URL('./pkg/tombstone_web_bg.wasm', import.meta.url) });

const encoder = new TextEncoder();
const bytes = (payload) => (typeof payload === 'string' ? encoder.encode(payload) : payload);

export const convert = (payload, context) => wasm.convert(bytes(payload), context);
export const convertJson = (payload, context) => wasm.convertJson(bytes(payload), context);
export const detect = (payload) => wasm.detect(bytes(payload));
export const taskId = (organizationId, idempotencyKey) => wasm.taskId(organizationId, idempotencyKey);
export const schema = (name) => wasm.schema(name);
export const schemaNames = () => wasm.schemaNames();
export const schemaFor = (payload, source) => wasm.schemaFor(bytes(payload), source);
export const sources = () => wasm.sources();
