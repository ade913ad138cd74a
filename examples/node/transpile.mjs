// Transpiles the plugin component into an ES module for Node with jco (jco-transpile, the library
// behind `jco transpile`): target/jco/tombstone_adapter/tombstone_adapter.js.
import { writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transpile, writeFiles } from '@bytecodealliance/jco-transpile';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const component = join(root, 'target', 'wasm', 'tombstone_adapter.wasm');
const outDir = join(root, 'target', 'jco', 'tombstone_adapter');

const { files, imports, exports } = await transpile(component, { name: 'tombstone_adapter', outDir });
await writeFiles(files);
// The generated .js is an ES module.
await writeFile(join(outDir, 'package.json'), '{"type": "module"}\n');
console.log(`jco: ${outDir} (imports: ${imports.length ? imports.join(', ') : 'none'}; exports: ${exports.map((e) => e[0]).join(', ')})`);
