import type Database from 'better-sqlite3';
import { blob, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * The ledger's tables, as drizzle sees them (queries) and as SQLite creates them (DDL below).
 * drizzle-kit is a build-time tool we do not ship to boxes, so the DDL is kept here beside the
 * table definitions and applied by `migrateLedger` under `PRAGMA user_version`.
 */
export const records = sqliteTable('records', {
  seq: integer('seq').primaryKey(),
  boxId: text('box_id').notNull(),
  kind: text('kind').notNull(),
  terminalId: text('terminal_id'),
  amountFen: integer('amount_fen'),
  payload: text('payload').notNull(),
  piiDigest: text('pii_digest'),
  /** SM4-CBC(dataKey, JCS({salt, ...fields})): personal data at rest (DESIGN invariant 5). */
  piiIv: blob('pii_iv', { mode: 'buffer' }),
  piiSealed: blob('pii_sealed', { mode: 'buffer' }),
  recordedAt: text('recorded_at').notNull(),
  clockOffsetMs: integer('clock_offset_ms').notNull(),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
  idempotencyKey: text('idempotency_key'),
});

/** One row per record not yet acknowledged by the bank: the uploader's work queue. */
export const outbox = sqliteTable('outbox', {
  seq: integer('seq').primaryKey(),
});

/** Batches built and stored before sending, so a resend after a lost ack uses the same bytes. */
export const pendingBatches = sqliteTable('pending_batches', {
  batchSeq: integer('batch_seq').primaryKey(),
  firstSeq: integer('first_seq').notNull(),
  lastSeq: integer('last_seq').notNull(),
  recordCount: integer('record_count').notNull(),
  prevChainHead: text('prev_chain_head').notNull(),
  chainHead: text('chain_head').notNull(),
  digest: text('digest').notNull(),
  body: blob('body', { mode: 'buffer' }).notNull(),
  createdAt: text('created_at').notNull(),
});

/** Small key/value state: synced watermark, verified checkpoint, prune watermark, box id. */
export const meta = sqliteTable('meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
});

const MIGRATIONS: string[] = [
  // v1
  `CREATE TABLE records (
     seq INTEGER PRIMARY KEY,
     box_id TEXT NOT NULL,
     kind TEXT NOT NULL,
     terminal_id TEXT,
     amount_fen INTEGER CHECK (amount_fen IS NULL OR typeof(amount_fen) = 'integer'),
     payload TEXT NOT NULL,
     pii_digest TEXT,
     pii_iv BLOB,
     pii_sealed BLOB,
     recorded_at TEXT NOT NULL,
     clock_offset_ms INTEGER NOT NULL,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL,
     idempotency_key TEXT UNIQUE
   );
   CREATE TABLE outbox (seq INTEGER PRIMARY KEY);
   CREATE TABLE pending_batches (
     batch_seq INTEGER PRIMARY KEY,
     first_seq INTEGER NOT NULL,
     last_seq INTEGER NOT NULL,
     record_count INTEGER NOT NULL,
     prev_chain_head TEXT NOT NULL,
     chain_head TEXT NOT NULL,
     digest TEXT NOT NULL,
     body BLOB NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
];

export const LEDGER_SCHEMA_VERSION = MIGRATIONS.length;

/** Applies the DDL steps the file has not seen yet, each in its own transaction. */
export function migrateLedger(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `ledger schema v${current} is newer than this agent (v${MIGRATIONS.length}); upgrade the agent`,
    );
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    const step = MIGRATIONS[v] as string;
    db.transaction(() => {
      db.exec(step);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
