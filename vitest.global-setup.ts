import { execFileSync } from 'node:child_process';

/**
 * Tests that spawn the `sceneway` command must run the bundle of the code under test, not one left
 * over from an earlier `npm install`: rebuild it once before the run (≈1 s: it bundles the pure-JS packages too, D21).
 */
export default function setup(): void {
  execFileSync(process.execPath, ['gateway-agent/build.mjs'], {
    stdio: 'ignore',
    env: { ...process.env, SCENEWAY_BUILD_QUIET: '1' },
  });
}
