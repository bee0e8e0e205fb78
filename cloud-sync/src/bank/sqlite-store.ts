import Database from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { GENESIS_HASH } from '../chain/record-chain.ts';
import type {
  BankAlert,
  BankStore,
  BatchToCommit,
  BoxStatus,
  CommitOutcome,
  DayRecord,
  EnrolledBox,
} from './store.ts';

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS boxes (box_id TEXT PRIMARY KEY, public_key TEXT NOT NULL, site_id TEXT NOT NULL,
     enrolled_at TEXT NOT NULL, head_seq INTEGER NOT NULL DEFAULT 0, head_hash TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS batches (box_id TEXT NOT NULL, batch_seq INTEGER NOT NULL, digest TEXT NOT NULL,
     first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL, received_at TEXT NOT NULL, key_envelope TEXT,
     PRIMARY KEY (box_id, batch_seq))`,
  `CREATE TABLE IF NOT EXISTS records (box_id TEXT NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, terminal_id TEXT,
     amount_fen INTEGER, recorded_at TEXT NOT NULL, hash TEXT NOT NULL, payload TEXT NOT NULL, pii_encrypted TEXT,
     batch_seq INTEGER NOT NULL, PRIMARY KEY (box_id, seq))`,
  `CREATE TABLE IF NOT EXISTS nonces (box_id TEXT NOT NULL, nonce TEXT NOT NULL, seen_at INTEGER NOT NULL, PRIMARY KEY (box_id, nonce))`,
  `CREATE TABLE IF NOT EXISTS alerts (id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, kind TEXT NOT NULL,
     box_id TEXT NOT NULL, detail TEXT NOT NULL)`,
];

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
    this.sqlite = new Database(path);
    this.sqlite.pragma('journal_mode = WAL');
    this.sqlite.pragma('synchronous = FULL');
    this.sqlite.pragma('busy_timeout = 5000');
    this.db = drizzle(this.sqlite);
  }

  async init(): Promise<void> {
    for (const stmt of SCHEMA) this.db.run(sql.raw(stmt));
    // Banks created before 2026-11-29 kept the key envelope in every record's pii_encrypted instead.
    const columns = this.sqlite.pragma('table_info(batches)') as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'key_envelope'))
      this.sqlite.exec('ALTER TABLE batches ADD COLUMN key_envelope TEXT');
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

  async rememberNonce(boxId: string, nonce: string, seenAtMs: number, windowMs: number): Promise<boolean> {
    return this.db.transaction((tx) => {
      tx.run(sql`DELETE FROM nonces WHERE box_id = ${boxId} AND seen_at < ${seenAtMs - 2 * windowMs}`);
      const res = tx.run(
        sql`INSERT INTO nonces (box_id, nonce, seen_at) VALUES (${boxId}, ${nonce}, ${seenAtMs}) ON CONFLICT DO NOTHING`,
      );
      return res.changes === 1;
    });
  }

  async commitBatch(b: BatchToCommit, verified?: Promise<void>): Promise<CommitOutcome> {
    // better-sqlite3 transactions are synchronous, so nothing overlaps here: the checks finish first.
    await verified;
    // BEGIN IMMEDIATE takes the write lock first, so the head read below cannot go stale.
    return this.db.transaction(
      (tx): CommitOutcome => {
        const box = tx.get<BoxRow>(sql`SELECT * FROM boxes WHERE box_id = ${b.boxId}`);
        if (!box) return { kind: 'not-enrolled' };
        const prior = tx.get<{ digest: string }>(
          sql`SELECT digest FROM batches WHERE box_id = ${b.boxId} AND batch_seq = ${b.batchSeq}`,
        );
        if (prior)
          return prior.digest === b.digest
            ? { kind: 'duplicate' }
            : { kind: 'conflict', storedDigest: prior.digest };
        const headSeq = Number(box.head_seq);
        // A batch that does not start from the stored head was sent out of order (or forged); one
        // that starts from the head but skips sequence numbers means the box lost records.
        if (b.prevChainHead !== box.head_hash)
          return { kind: 'chain-broken', headSeq, headHash: box.head_hash };
        if (b.firstSeq !== headSeq + 1) return { kind: 'sequence-gap', headSeq };
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
          WHERE box_id = ${b.boxId} AND head_seq = ${headSeq} AND head_hash = ${box.head_hash}`);
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
      const count = this.db.get<{ n: number }>(
        sql`SELECT count(*) AS n FROM records WHERE box_id = ${box.box_id}`,
      );
      const last = this.db.get<{ batch_seq: number; last_seq: number; received_at: string }>(
        sql`SELECT batch_seq, last_seq, received_at FROM batches WHERE box_id = ${box.box_id} ORDER BY batch_seq DESC LIMIT 1`,
      );
      return {
        boxId: box.box_id,
        siteId: box.site_id,
        headSeq: Number(box.head_seq),
        records: Number(count?.n ?? 0),
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
