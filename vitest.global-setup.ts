import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Tests that spawn the `sceneway` or `sceneway-bank` command must run the bundle of the code under
 * test, not one left over from an earlier `npm install`: rebuild both once before the run (≈1 s: the
 * agent's bundle holds the pure-JS packages too, D21).
 */
export default function setup(): () => void {
  // Every test's temp folders (ptys, ledgers, key dirs, child processes' too: they inherit TMPDIR) live
  // under one folder of this run, removed when the run ends, so a run leaves nothing in /tmp even where
  // a test that failed half-way could not clean up after itself.
  const runTmp = mkdtempSync(join(tmpdir(), 'sceneway-test-run-'));
  process.env.TMPDIR = runTmp;
  for (const script of ['gateway-agent/build.mjs', 'cloud-sync/build.mjs']) {
    execFileSync(process.execPath, [script], {
      stdio: 'ignore',
      env: { ...process.env, SCENEWAY_BUILD_QUIET: '1' },
    });
  }
  return () => rmSync(runTmp, { recursive: true, force: true });
}
