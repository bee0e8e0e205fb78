// Builds the installer UI (gateway-agent/web, Vite + Preact) into gateway-agent/dist/web, which the
// agent serves under /ui/ (D39). Runs from the root `prepare` and `build` scripts, so `npm ci` builds it.
// `--out <dir>` builds elsewhere: the browser test builds the current sources into its own temp folder,
// so it never tests a stale build, nor races another build of dist/web.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const outFlag = process.argv.indexOf('--out');
const outDir = outFlag > 0 ? resolve(process.argv[outFlag + 1]) : join(here, 'dist/web');
const started = Date.now();
await build({ configFile: join(here, 'web/vite.config.ts'), build: { outDir, emptyOutDir: true } });
process.stdout.write(`installer UI built into ${outDir} in ${Date.now() - started} ms\n`);
