import { fileURLToPath } from 'node:url';

export const OPS_DASHBOARD_VITE_CONFIG = fileURLToPath(new URL('../../web/vite.config.ts', import.meta.url));

/**
 * Builds the ops dashboard with Vite into `outDir` (default dashboards/dist/web, where the fleet server
 * looks). Tests build into a folder of their own, so they serve the front-end under test, not a build
 * left from an earlier `npm install`. Vite is imported here, not at the top: the server never needs it.
 */
export async function buildOpsDashboard(options: { outDir?: string } = {}): Promise<void> {
  const { build } = await import('vite');
  await build({
    configFile: OPS_DASHBOARD_VITE_CONFIG,
    logLevel: 'warn',
    ...(options.outDir ? { build: { outDir: options.outDir, emptyOutDir: true } } : {}),
  });
}
