import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// The ops dashboard: built into dashboards/dist/web, served by the fleet server under a CSP with no
// inline script, so nothing here may emit one (the module-preload polyfill is off: it is inline-free
// in the bundle but unneeded by the Chromium/Firefox versions ops run).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [preact({ prerender: { enabled: false } })],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
