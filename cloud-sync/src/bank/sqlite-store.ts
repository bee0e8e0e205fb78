import { preparePrivateDatabaseFile } from '@sceneway/core';
import Database from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { GENESIS_HASH } from '../chain/record-chain.ts';
import { BANK_TABLES, createBankTableSql, missingColumnsSql } from './bank-schema.ts';
import { type AdmissionFacts, decideBatchAdmission } from './batch-admission.ts';
import type {
  BankAlert,
  BankStore,
  BatchToCommit,
  BoxStatus,
  CommitOutcome,
  DayRecord,
  EnrolledBox,
} from './store.ts';

interface BoxRow {
  box_id: string;
  public_key: string;
  site_id: string;
  enrolled_at: string;
  head_seq: number;
  head_hash: string;
}

function toBox(r: BoxRow): EnrolledBox {
  return {
    boxId: r.box_id,
    siteId: r.site_id,
    publicKeyHex: r.public_key,
    enrolledAt: r.enrolled_at,
    headSeq: Number(r.head_seq),
    headHash: r.head_hash,
  };
}

/** SQLite store (default; one bank process). WAL + synchronous=FULL: an ack is only sent after a durable commit. */
export class SqliteBankStore implements BankStore {
  readonly dialect = 'sqlite' as const;
  private readonly sqlite: Database.Database;
  private readonly db: BetterSQLite3Database;

  constructor(path: string) {
    // Owner-only before SQLite opens it (-wal/-shm inherit the mode), and deleted rows zeroed:
    // the bank holds every box's sealed personal data and key envelopes (004 §5.1.4 a).
    if (path !== ':memory:') preparePrivateDatabaseFile(path);
    this.sqlite = new Database(path);
    this.sqlite.pragma('journal_mode = WAL');
    this.sqlite.pragma('secure_delete = ON');
    this.sqlite.pragma('synchronous = FULL');
    this.sqlite.pragma('busy_timeout = 5000');
    this.db = drizzle(this.sqlite);
  }

  async init(): Promise<void> {
    // One definition for both stores (bank-schema.ts): new tables are created from it, and a bank
    // made by an older version gets the columns added since (e.g. batches.key_envelope, 2026-11-29).
    this.sqlite.transaction(() => {
      for (const table of BANK_TABLES) {
        const columns = this.sqlite.pragma(`table_info(${table.name})`) as Array<{ name: string }>;
        const existing = new Set(columns.map((c) => c.name));
        if (existing.size === 0) this.sqlite.exec(createBankTableSql('sqlite', table));
        for (const add of missingColumnsSql('sqlite', table, existing))
          this.sqlite.exec(`ALTER TABLE ${table.name} ${add}`);
      }
    })();
  }

  // Prepared at first use: the tables exist only after init().
  private selectHead: Database.Statement | undefined;
  private selectDigest: Database.Statement | undefined;
  /** What decideBatchAdmission needs, read through the connection (inside or outside a transaction). */
  private admissionFacts(b: BatchToCommit): AdmissionFacts {
    this.selectHead ??= this.sqlite.prepare('SELECT head_seq, head_hash FROM boxes WHERE box_id = ?');
    this.selectDigest ??= this.sqlite.prepare(
      'SELECT digest FROM batches WHERE box_id = ? AND batch_seq = ?',
    );
    const box = this.selectHead.get(b.boxId) as { head_seq: number; head_hash: string } | undefined;
    const prior = this.selectDigest.get(b.boxId, b.batchSeq) as { digest: string } | undefined;
    return {
      head: box ? { seq: Number(box.head_seq), hash: box.head_hash } : null,
      storedDigest: prior?.digest ?? null,
      batch: b,
    };
  }
  /** Rows per multi-row INSERT: one statement step per 50 records (500 parameters, under SQLite's 32,766). */
  private static readonly ROWS_PER_INSERT = 50;
  private readonly insertStatements = new Map<number, Database.Statement>();
  private insertRecords(rows: number): Database.Statement {
    let statement = this.insertStatements.get(rows);
    if (!statement) {
      const values = Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
      statement = this.sqlite.prepare(
        `INSERT INTO records (box_id, seq, kind, terminal_id, amount_fen, recorded_at, hash, payload, pii_encrypted, batch_seq)
         VALUES ${values}`,
      );
      this.insertStatements.set(rows, statement);
    }
    return statement;
  }

  async enrolBox(box: {
    boxId: string;
    siteId: string;
    publicKeyHex: string;
    enrolledAt: string;
  }): Promise<void> {
    // Re-enrolment replaces the key (box replaced on site) but never rewinds the chain head.
    this.db.run(sql`INSERT INTO boxes (box_id, public_key, site_id, enrolled_at, head_seq, head_hash)
      VALUES (${box.boxId}, ${box.publicKeyHex}, ${box.siteId}, ${box.enrolledAt}, 0, ${GENESIS_HASH})
      ON CONFLICT (box_id) DO UPDATE SET public_key = excluded.public_key, site_id = excluded.site_id,
      enrolled_at = excluded.enrolled_at`);
  }

  async getBox(boxId: string): Promise<EnrolledBox | null> {
    const row = this.db.get<BoxRow>(sql`SELECT * FROM boxes WHERE box_id = ${boxId}`);
    return row ? toBox(row) : null;
  }

  /** When every box's expired nonces were last pruned (per process; any replica's prune serves all). */
  private noncesPrunedAtMs = 0;

  async rememberNonce(boxId: string, nonce: string, seenAtMs: number, windowMs: number): Promise<boolean> {
    const pruneGlobally = seenAtMs - this.noncesPrunedAtMs > windowMs / 4;
    if (pruneGlobally) this.noncesPrunedAtMs = seenAtMs;
    return this.db.transaction((tx) => {
      // Every box's expired nonces now and then (a box that went quiet leaves its rows behind), this
      // box's on every call; a stale timestamp was refused before, so nothing older can be replayed.
      if (pruneGlobally) tx.run(sql`DELETE FROM nonces WHERE seen_at < ${seenAtMs - 2 * windowMs}`);
      else tx.run(sql`DELETE FROM nonces WHERE box_id = ${boxId} AND seen_at < ${seenAtMs - 2 * windowMs}`);
      const res = tx.run(
        sql`INSERT INTO nonces (box_id, nonce, seen_at) VALUES (${boxId}, ${nonce}, ${seenAtMs}) ON CONFLICT DO NOTHING`,
      );
      return res.changes === 1;
    });
  }

  async purgePersonalData(receivedBefore: string): Promise<{ batches: number; records: number }> {
    return this.db.transaction((tx) => {
      const records = tx.run(sql`UPDATE records SET pii_encrypted = NULL WHERE pii_encrypted IS NOT NULL
        AND EXISTS (SELECT 1 FROM batches b WHERE b.box_id = records.box_id AND b.batch_seq = records.batch_seq
          AND b.received_at < ${receivedBefore})`);
      const batches = tx.run(
        sql`UPDATE batches SET key_envelope = NULL WHERE key_envelope IS NOT NULL AND received_at < ${receivedBefore}`,
      );
      return { batches: batches.changes, records: records.changes };
    });
  }

  async nonceCount(): Promise<number> {
    return this.db.get<{ n: number }>(sql`SELECT count(*) AS n FROM nonces`)?.n ?? 0;
  }

  async commitBatch(b: BatchToCommit, verified?: Promise<void>): Promise<CommitOutcome> {
    // better-sqlite3 transactions are synchronous, so the checks must finish before it starts. A
    // batch that will not be stored is answered at once, without waiting for them (store.ts); the
    // decision that counts is taken again inside the write transaction.
    const early = decideBatchAdmission(this.admissionFacts(b));
    if (early.kind !== 'store') return early;
    await verified;
    // BEGIN IMMEDIATE takes the write lock first, so the head read below cannot go stale.
    return this.db.transaction(
      (tx): CommitOutcome => {
        const decision = decideBatchAdmission(this.admissionFacts(b));
        if (decision.kind !== 'store') return decision;
        const { head } = decision;
        tx.run(sql`INSERT INTO batches (box_id, batch_seq, digest, first_seq, last_seq, received_at, key_envelope)
          VALUES (${b.boxId}, ${b.batchSeq}, ${b.digest}, ${b.firstSeq}, ${b.lastSeq}, ${b.receivedAt}, ${b.keyEnvelope})`);
        // Prepared multi-row INSERTs: a drizzle template per row, then one statement per row, were each
        // a visible share of storing a 2,000-record batch.
        const step = SqliteBankStore.ROWS_PER_INSERT;
        for (let at = 0; at < b.records.length; at += step) {
          const chunk = b.records.slice(at, at + step);
          const params: unknown[] = [];
          for (const r of chunk) {
            params.push(
              b.boxId,
              r.seq,
              r.kind,
              r.terminalId,
              r.amountFen,
              r.recordedAt,
              r.hash,
              JSON.stringify(r.payload),
              r.piiSeal && JSON.stringify(r.piiSeal),
              b.batchSeq,
            );
          }
          this.insertRecords(chunk.length).run(...params);
        }
        const moved = tx.run(sql`UPDATE boxes SET head_seq = ${b.lastSeq}, head_hash = ${b.newChainHead}
          WHERE box_id = ${b.boxId} AND head_seq = ${head.seq} AND head_hash = ${head.hash}`);
        if (moved.changes !== 1) throw new Error('box head moved inside the transaction');
        return { kind: 'stored' };
      },
      { behavior: 'immediate' },
    );
  }

  async addAlert(a: BankAlert): Promise<void> {
    this.db.run(
      sql`INSERT INTO alerts (at, kind, box_id, detail) VALUES (${a.at}, ${a.kind}, ${a.boxId}, ${a.detail})`,
    );
  }

  async alerts(limit = 50): Promise<BankAlert[]> {
    return this.db.all<BankAlert>(
      sql`SELECT at, kind, box_id AS "boxId", detail FROM alerts ORDER BY id DESC LIMIT ${limit}`,
    );
  }

  async status(): Promise<BoxStatus[]> {
    const boxes = this.db.all<BoxRow>(sql`SELECT * FROM boxes ORDER BY box_id`);
    return boxes.map((box) => {
      const last = this.db.get<{ batch_seq: number; last_seq: number; received_at: string }>(
        sql`SELECT batch_seq, last_seq, received_at FROM batches WHERE box_id = ${box.box_id} ORDER BY batch_seq DESC LIMIT 1`,
      );
      return {
        boxId: box.box_id,
        siteId: box.site_id,
        headSeq: Number(box.head_seq),
        // Records are seqs 1..head with no gap (the chain and sequence checks): no count(*) needed.
        records: Number(box.head_seq),
        lastBatch: last
          ? { batchSeq: Number(last.batch_seq), lastSeq: Number(last.last_seq), receivedAt: last.received_at }
          : null,
      };
    });
  }

  async recordCount(boxId?: string): Promise<number> {
    const row = boxId
      ? this.db.get<{ n: number }>(sql`SELECT count(*) AS n FROM records WHERE box_id = ${boxId}`)
      : this.db.get<{ n: number }>(sql`SELECT count(*) AS n FROM records`);
    return Number(row?.n ?? 0);
  }

  async recordsOfDay(boxId: string, date: string): Promise<DayRecord[]> {
    return this.db.all<DayRecord>(sql`SELECT kind, terminal_id AS "terminalId", amount_fen AS "amountFen",
      recorded_at AS "recordedAt" FROM records WHERE box_id = ${boxId} AND substr(recorded_at, 1, 10) = ${date}
      ORDER BY seq`);
  }

  async close(): Promise<void> {
    this.sqlite.close();
  }
}
