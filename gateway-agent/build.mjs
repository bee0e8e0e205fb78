// Bundles the `sceneway` command into dist/: our TypeScript (agent, drivers, sync) and the pure-JS
// packages it uses, as ES modules. Why: running through tsx's module hooks costs ~600 ms and ~40 MB at
// every start of a box (docs/decisions.md D4), and even from node_modules, resolving and loading some
// 40 packages file by file cost ~70 ms of CPU and ~14 MB of RSS at each `sceneway start` (D21).
// Runs on `npm install` (prepare) and before the tests.

import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/**
 * Packages left to Node as ordinary imports (D21). Each one here because bundling would break it:
 *  - native addons, loaded from their own folder: better-sqlite3, serialport and its @serialport/*
 *    bindings, node-hid;
 *  - packages that start a file of their own at run time, found next to their own code: pino (its
 *    transports run lib/worker.js in a thread), node-cron (background tasks fork its daemon.js);
 *  - tsx, which bin/sceneway.js only loads when there is no bundle.
 */
const EXTERNAL = ['better-sqlite3', 'serialport', '@serialport/*', 'node-hid', 'pino', 'node-cron', 'tsx'];

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const common = {
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Prefer a package's ES build: esbuild can drop the parts of it we never import.
  mainFields: ['module', 'main'],
  // Bundled CommonJS packages still call require() for Node's built-ins; an ES module has none.
  banner: {
    js: "import { createRequire as __scenewayCreateRequire } from 'node:module'; const require = __scenewayCreateRequire(import.meta.url);",
  },
  external: EXTERNAL,
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
};
const started = Date.now();
const [cli, worker] = await Promise.all([
  build({
    ...common,
    entryPoints: { sceneway: join(here, 'src/cli/main.ts') },
    // A dynamic import() becomes a chunk of its own, loaded when it is reached: `sceneway start` loads
    // the agent while the key passphrase is being stretched on the thread pool (start-command.ts).
    splitting: true,
    // Chunks sit beside the entry: version.ts and batch-builder.ts find files relative to their own.
    chunkNames: '[name]-[hash]',
  }),
  // The uploader's batch-building worker thread runs a file of its own, started long after the agent:
  // one file with no shared chunks, so a rebuild under a running agent cannot pull a chunk from under it.
  build({ ...common, entryPoints: { 'batch-worker': join(here, 'src/sync/batch-worker.ts') } }),
]);
// Chunk names carry a content hash: drop the ones an earlier build left that this one did not write.
const written = new Set(
  Object.keys({ ...cli.metafile.outputs, ...worker.metafile.outputs }).map((o) => basename(o)),
);
for (const file of readdirSync(dist)) {
  if (/^[a-z0-9-]+-[A-Z0-9]{8}\.mjs(\.map)?$/.test(file) && !written.has(file)) rmSync(join(dist, file));
}
if (process.env.SCENEWAY_BUILD_METAFILE === '1') {
  writeFileSync(join(dist, 'meta.json'), JSON.stringify({ cli: cli.metafile, worker: worker.metafile }));
}
if (process.env.SCENEWAY_BUILD_QUIET !== '1') {
  process.stdout.write(
    `built gateway-agent/dist/{sceneway,batch-worker}.mjs in ${Date.now() - started} ms\n`,
  );
}
