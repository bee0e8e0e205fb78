// Builds the ops dashboard (dashboards/web, Vite + Preact + uPlot) into dashboards/dist/web, which the
// fleet server serves. Run by the root `prepare` and `build` scripts, so `npm ci` leaves it built.
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

await build({
  configFile: fileURLToPath(new URL('./web/vite.config.ts', import.meta.url)),
  logLevel: process.env.SCENEWAY_BUILD_QUIET ? 'warn' : 'info',
});
