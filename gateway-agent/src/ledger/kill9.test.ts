import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openLedger } from './ledger.ts';
import { TEST_DATA_KEY, tempLedgerPath } from './test-support.ts';
import { verifyLedgerFile } from './verify-ledger.ts';

const CHILD = fileURLToPath(new URL('./kill9-child.ts', import.meta.url));
const ROUNDS = 24;

/** Runs the child until it has acknowledged something, then SIGKILLs it after a random extra delay. */
function runAndKill(path: string, extraDelayMs: number): Promise<Map<number, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acked = new Map<number, string>();
    let buffered = '';
    let stderr = '';
    let killTimer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [tag, seq, hash] = line.split(' ');
        if (tag === 'ACK' && seq && hash) acked.set(Number(seq), hash);
      }
      if (acked.size > 0 && !killTimer) killTimer = setTimeout(() => child.kill('SIGKILL'), extraDelayMs);
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('exit', (_code, signal) => {
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`child exited on its own (${String(_code)}): ${stderr}`));
    });
  });
}

describe('ledger under kill -9', () => {
  it(`keeps every acknowledged record intact across ${ROUNDS} SIGKILLs under concurrent load`, async () => {
    const path = tempLedgerPath('kill9-');
    const allAcked = new Map<number, string>();
    for (let round = 0; round < ROUNDS; round++) {
      const acked = await runAndKill(path, Math.floor(Math.random() * 150));
      expect(acked.size).toBeGreaterThan(0);
      for (const [seq, hash] of acked) allAcked.set(seq, hash);

      // Reopening runs the boot check (quick_check + chain from the checkpoint) like the agent does.
      const ledger = openLedger({ path, boxId: 'box-kill9', dataKey: TEST_DATA_KEY });
      const head = ledger.stats().headSeq;
      await ledger.close();
      const db = new Database(path, { readonly: true });
      const stored = new Map(
        (db.prepare('SELECT seq, hash FROM records').all() as Array<{ seq: number; hash: string }>).map(
          (r) => [r.seq, r.hash],
        ),
      );
      db.close();
      for (const [seq, hash] of allAcked) expect(stored.get(seq), `acknowledged record ${seq}`).toBe(hash);
      expect(head).toBeGreaterThanOrEqual(Math.max(...allAcked.keys()));
      // No gap: the stored seqs are exactly 1..head.
      expect(stored.size).toBe(head);
    }
    const verified = verifyLedgerFile(path);
    expect(verified.ok).toBe(true);
    expect(verified.records).toBeGreaterThanOrEqual(allAcked.size);
  }, 180_000);
});
