import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openLedger } from '../gateway-agent/src/ledger/ledger.ts';
import { saleInput, TEST_DATA_KEY } from '../gateway-agent/src/ledger/test-support.ts';

/**
 * Ledger append throughput, with "durable before ack" in both columns:
 *  - baseline: raw better-sqlite3, WAL with synchronous=FULL, one INSERT per transaction, i.e. one
 *    fsync per row: what a naive "commit each sale" gateway does;
 *  - ledger.append from 64 concurrent callers (group commit), each record SM3-chained, its PII
 *    SM4-sealed and an outbox row written, each ack only after its transaction committed and the WAL
 *    was fsynced (synchronous=NORMAL + our own fsync off the event loop: decisions D15).
 */
const SECONDS = Number(process.env.BENCH_LEDGER_SECONDS ?? 5);
const CALLERS = 64;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function rawSingleRowInserts(dir: string): number {
  const db = new Database(join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(
    'CREATE TABLE records (seq INTEGER PRIMARY KEY, kind TEXT, terminal_id TEXT, amount_fen INTEGER, payload TEXT, hash TEXT)',
  );
  const insert = db.prepare(
    'INSERT INTO records (kind, terminal_id, amount_fen, payload, hash) VALUES (?, ?, ?, ?, ?)',
  );
  const hash = 'ab'.repeat(32);
  let rows = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(SECONDS * 1e9);
  while (process.hrtime.bigint() < deadline) {
    insert.run('sale', 'pos-1', 1234, '{"receiptNo":1}', hash); // autocommit: one transaction per row
    rows++;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  db.close();
  return rows / seconds;
}

async function groupCommitAppends(dir: string) {
  const ledger = openLedger({ path: join(dir, 'ledger.db'), boxId: 'bench-box', dataKey: TEST_DATA_KEY });
  const latencies: number[] = [];
  let acked = 0;
  let i = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  const caller = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await ledger.append(saleInput(i++));
      latencies.push(performance.now() - t0);
      acked++;
    }
  };
  await Promise.all(Array.from({ length: CALLERS }, caller));
  const seconds = (performance.now() - started) / 1000;
  await ledger.close();
  latencies.sort((a, b) => a - b);
  return {
    ackedPerSec: acked / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    acked,
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-bench-ledger-'));
  try {
    const rawRowsPerSec = rawSingleRowInserts(dir);
    const group = await groupCommitAppends(dir);
    const ratio = group.ackedPerSec / rawRowsPerSec;
    const table = [
      ['measure', 'value'],
      ['raw better-sqlite3 single-row inserts (rows/s)', rawRowsPerSec.toFixed(0)],
      [`ledger.append, ${CALLERS} concurrent callers (acked records/s)`, group.ackedPerSec.toFixed(0)],
      ['ledger.append latency p50 (ms)', group.p50Ms.toFixed(2)],
      ['ledger.append latency p99 (ms)', group.p99Ms.toFixed(2)],
      ['ratio ledger / raw (goal >= 5)', ratio.toFixed(1)],
    ];
    for (const [a, b] of table) process.stdout.write(`${String(a).padEnd(58)} ${b}\n`);
    return {
      secondsPerMeasure: SECONDS,
      pragmas: {
        baseline: { journal_mode: 'wal', synchronous: 'FULL' },
        ledger: { journal_mode: 'wal', synchronous: 'NORMAL', walFsyncBeforeAck: true },
      },
      baseline: { rawSingleRowInsertsPerSec: rawRowsPerSec },
      ledger: { callers: CALLERS, ...group },
      ratio,
      goal: { ratioAtLeast: 5, met: ratio >= 5 },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
