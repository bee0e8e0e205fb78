import { fileURLToPath } from 'node:url';
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

/**
 * The installer UI (D39): served by the agent under /ui/ from gateway-agent/dist/web. No inline script
 * or style anywhere in the output, so the agent's Content-Security-Policy can forbid both.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/ui/',
  plugins: [preact()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // The polyfill is a script of its own; every browser an installer carries has modulepreload.
    modulePreload: { polyfill: false },
    // Inlined assets would need data: in script/style sources.
    assetsInlineLimit: 0,
    sourcemap: true,
  },
  logLevel: 'warn',
});
