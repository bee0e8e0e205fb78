import { execFileSync } from 'node:child_process';

/**
 * Tests that spawn the `sceneway` or `sceneway-bank` command must run the bundle of the code under
 * test, not one left over from an earlier `npm install`: rebuild both once before the run (≈1 s: the
 * agent's bundle holds the pure-JS packages too, D21).
 */
export default function setup(): void {
  for (const script of ['gateway-agent/build.mjs', 'cloud-sync/build.mjs']) {
    execFileSync(process.execPath, [script], {
      stdio: 'ignore',
      env: { ...process.env, SCENEWAY_BUILD_QUIET: '1' },
    });
  }
}
