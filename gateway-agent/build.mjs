// Bundles the `sceneway` command into dist/sceneway.mjs: our TypeScript (agent, drivers, sync) in one
// ES module, every third-party package left external and loaded by Node as usual. Why: running through
// tsx's module hooks costs ~600 ms and ~40 MB at every start of a box (docs/decisions.md D4);
// the bundle starts in a fraction of that. Runs on `npm install` (prepare) and before the tests.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const started = Date.now();
await build({
  // The uploader's batch-building worker thread is a second entry: a worker runs a file of its own.
  entryPoints: {
    sceneway: join(here, 'src/cli/main.ts'),
    'batch-worker': join(here, 'src/sync/batch-worker.ts'),
  },
  outdir: join(here, 'dist'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
  plugins: [
    {
      name: 'third-party-external',
      setup(b) {
        // Bare imports other than our own workspaces stay imports: native addons (better-sqlite3,
        // serialport, node-hid) cannot be bundled, and the rest load fast from node_modules.
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@sceneway/') ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});
if (process.env.SCENEWAY_BUILD_QUIET !== '1') {
  process.stdout.write(
    `built gateway-agent/dist/{sceneway,batch-worker}.mjs in ${Date.now() - started} ms\n`,
  );
}
