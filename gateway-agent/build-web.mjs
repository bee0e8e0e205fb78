// Builds the installer UI (gateway-agent/web, Vite + Preact) into gateway-agent/dist/web, which the
// agent serves under /ui/ (D39). Runs from the root `prepare` and `build` scripts, so `npm ci` builds it.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const started = Date.now();
await build({ configFile: join(here, 'web/vite.config.ts') });
process.stdout.write(`installer UI built into gateway-agent/dist/web in ${Date.now() - started} ms\n`);
