import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempLedgerPath } from '../ledger/test-support.ts';
import { EXIT_LEDGER_FATAL } from './start-command.ts';

const CHILD = fileURLToPath(new URL('./ledger-fatal-child.ts', import.meta.url));
const SCENEWAY = fileURLToPath(new URL('../../bin/sceneway.js', import.meta.url));

describe('sceneway start on a failed ledger fsync', () => {
  it(`exits with code ${EXIT_LEDGER_FATAL} after logging LEDGER_SYNC_FAILED, for the supervisor to restart it`, async () => {
    const path = tempLedgerPath('fatal-');
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
      });
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      // The handler exits inside the failure, before the append's caller hears of it: a REJECTED line
      // means the process carried on after a failed fsync.
      const outcome = await new Promise<string>((resolve) => {
        child.once('exit', (c) => resolve(`exit ${c}`));
        child.stdout.on('data', () => {
          if (/REJECTED|ACK/.test(stdout)) {
            child.kill('SIGKILL');
            resolve(`carried on: ${stdout.trim()}`);
          }
        });
      });
      expect(outcome, stderr).toBe(`exit ${EXIT_LEDGER_FATAL}`);
      expect(stderr).toMatch(/"code":"LEDGER_SYNC_FAILED"/);
    } finally {
      rmSync(dirname(path), { recursive: true, force: true });
    }
  }, 30_000);

  it('documents the exit code in `sceneway start --help`', () => {
    const help = spawnSync(process.execPath, [SCENEWAY, 'start', '--help'], { encoding: 'utf8' });
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(
      new RegExp(`${EXIT_LEDGER_FATAL} the ledger could not sync to disk \\(LEDGER_SYNC_FAILED\\)`),
    );
  });
});
