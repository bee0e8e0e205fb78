// Bundles the reference bank's `sceneway-bank` command into dist/sceneway-bank.mjs, as
// gateway-agent/build.mjs does for `sceneway`: our TypeScript (bank, sync, core) in one ES module,
// every third-party package left external and loaded by Node as usual. Why: the command then runs on
// plain node, so tsx is a dev dependency only, and it starts faster and smaller (docs/decisions.md D20).
// Runs with the agent's build (`npm run build`, `npm install`) and before the tests.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const started = Date.now();
await build({
  entryPoints: { 'sceneway-bank': join(here, 'src/bank/cli.ts') },
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
        // Bare imports other than our own workspaces stay imports: better-sqlite3 is a native addon,
        // and pg, drizzle and the rest load fast from node_modules.
        b.onResolve({ filter: /^[^./]/ }, (args) =>
          args.path.startsWith('@sceneway/') ? undefined : { path: args.path, external: true },
        );
      },
    },
  ],
});
if (process.env.SCENEWAY_BUILD_QUIET !== '1') {
  process.stdout.write(`built cloud-sync/dist/sceneway-bank.mjs in ${Date.now() - started} ms\n`);
}
