import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChainRecord, chainHash, GENESIS_HASH } from '@sceneway/cloud-sync/chain/record-chain';
import { sm3Hex } from '@sceneway/cloud-sync/crypto/sm3';
import Database from 'better-sqlite3';
import type { AppendInput, AppendResult, Ledger, LedgerRecord, LedgerStats } from '../ledger/ledger-api.ts';

/**
 * TESTS ONLY. A small but real Ledger for the canteen tests, written against ledger-api.ts while the
 * production ledger is built in parallel. It keeps the contract the canteen rules rely on:
 *  - concurrent appends of one tick commit in one SQLite transaction (group commit), WAL + FULL sync;
 *  - a repeated idempotency key writes nothing and does not run withinCommit;
 *  - withinCommit runs in its own savepoint of the committing transaction: a throw refuses that
 *    append only, and a failure after it (here: the record insert) rolls its writes back too.
 * `drain(n)` plays the bank acknowledging n records, so the full-buffer policy can recover.
 */
export interface TestLedger extends Ledger {
  drain(count: number): void;
}

export function tempDbPath(prefix = 'canteen-'): string {
  return join(mkdtempSync(join(tmpdir(), `sceneway-${prefix}`)), 'ledger.db');
}

interface Pending {
  input: AppendInput;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
}

interface RecordRow {
  seq: number;
  kind: string;
  terminal_id: string | null;
  amount_fen: number | null;
  payload: string;
  pii_digest: string | null;
  recorded_at: string;
  prev_hash: string;
  hash: string;
}

export function openTestLedger(path: string, boxId = 'box-test'): TestLedger {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS test_records (
    seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, terminal_id TEXT, amount_fen INTEGER,
    payload TEXT NOT NULL, pii_digest TEXT, recorded_at TEXT NOT NULL, prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL, idempotency_key TEXT UNIQUE, synced INTEGER NOT NULL DEFAULT 0)`);
  const byKey = db.prepare<[string], RecordRow>('SELECT * FROM test_records WHERE idempotency_key = ?');
  const head = db.prepare<[], RecordRow>('SELECT * FROM test_records ORDER BY seq DESC LIMIT 1');
  const insert = db.prepare(`INSERT INTO test_records
    (seq, kind, terminal_id, amount_fen, payload, pii_digest, recorded_at, prev_hash, hash, idempotency_key)
    VALUES (@seq, @kind, @terminalId, @amountFen, @payload, @piiDigest, @recordedAt, @prevHash, @hash, @key)`);
  const unsynced = db.prepare<[], { n: number; oldest: string | null; lastSynced: number | null }>(
    `SELECT (SELECT COUNT(*) FROM test_records WHERE synced = 0) AS n,
            (SELECT MIN(recorded_at) FROM test_records WHERE synced = 0) AS oldest,
            (SELECT MAX(seq) FROM test_records WHERE synced = 1) AS lastSynced`,
  );
  const markSynced = db.prepare(
    'UPDATE test_records SET synced = 1 WHERE seq IN (SELECT seq FROM test_records WHERE synced = 0 ORDER BY seq LIMIT ?)',
  );
  let queue: Pending[] = [];
  let closed = false;

  const toRecord = (r: RecordRow): LedgerRecord => ({
    boxId,
    seq: r.seq,
    kind: r.kind as LedgerRecord['kind'],
    terminalId: r.terminal_id,
    amountFen: r.amount_fen,
    payload: JSON.parse(r.payload) as ChainRecord['payload'],
    piiDigest: r.pii_digest,
    recordedAt: r.recorded_at,
    clockOffsetMs: 0,
    prevHash: r.prev_hash,
    hash: r.hash,
  });

  function flush(): void {
    const group = queue;
    queue = [];
    const outcomes: Array<() => void> = [];
    try {
      db.transaction(() => {
        const last = head.get();
        let seq = last?.seq ?? 0;
        let prevHash = last?.hash ?? GENESIS_HASH;
        for (const p of group) {
          const key = p.input.idempotencyKey;
          const existing = key === undefined ? undefined : byKey.get(key);
          if (existing) {
            outcomes.push(() => p.resolve({ record: toRecord(existing), duplicate: true }));
            continue;
          }
          try {
            db.transaction(() => p.input.withinCommit?.(db))();
          } catch (error) {
            outcomes.push(() => p.reject(error));
            continue;
          }
          const chained: ChainRecord = {
            boxId,
            seq: seq + 1,
            kind: p.input.kind,
            terminalId: p.input.terminalId,
            amountFen: p.input.amountFen,
            payload: p.input.payload,
            piiDigest: p.input.pii ? sm3Hex(JSON.stringify(p.input.pii)) : null,
            recordedAt: new Date().toISOString(),
            clockOffsetMs: 0,
            prevHash,
          };
          const hash = chainHash(chained);
          insert.run({ ...chained, payload: JSON.stringify(chained.payload), hash, key: key ?? null });
          seq = chained.seq;
          prevHash = hash;
          const record: LedgerRecord = { ...chained, kind: p.input.kind, hash };
          outcomes.push(() => p.resolve({ record, duplicate: false }));
        }
      })();
    } catch (error) {
      for (const p of group) p.reject(error);
      return;
    }
    for (const settle of outcomes) settle();
  }

  return {
    db,
    append(input) {
      if (closed) return Promise.reject(new Error('test ledger is closed'));
      return new Promise<AppendResult>((resolve, reject) => {
        if (queue.length === 0) setImmediate(flush);
        queue.push({ input, resolve, reject });
      });
    },
    stats(): LedgerStats {
      const last = head.get();
      const s = unsynced.get();
      return {
        headSeq: last?.seq ?? 0,
        headHash: last?.hash ?? GENESIS_HASH,
        unsyncedCount: s?.n ?? 0,
        oldestUnsyncedAt: s?.oldest ? Date.parse(s.oldest) : null,
        lastSyncedSeq: s?.lastSynced ?? 0,
      };
    },
    findByIdempotencyKey(key) {
      const row = byKey.get(key);
      return row ? toRecord(row) : null;
    },
    // Commits here run synchronous=FULL: each is on disk when its append resolves.
    async durable() {},
    drain(count) {
      markSynced.run(count);
    },
    async close() {
      closed = true;
      if (queue.length > 0) flush();
      db.close();
    },
  };
}
