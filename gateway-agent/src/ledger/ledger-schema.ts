import type Database from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import { blob, check, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { createTableSql } from './sqlite-ddl.ts';

/**
 * The ledger's tables: the one definition of its schema. drizzle builds the queries from them and
 * sqlite-ddl.ts the CREATE TABLE statements that `migrateLedger` applies (docs/decisions.md D18).
 */
export const records = sqliteTable(
  'records',
  {
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
    /** Unique: a repeated business event finds its stored record (ledger-api.ts AppendInput). */
    idempotencyKey: text('idempotency_key').unique(),
  },
  () => [
    // Money is integer fen in the file too (DESIGN invariant 4): SQLite would store 12.5 as REAL.
    check('amount_fen_integer', sql`amount_fen IS NULL OR typeof(amount_fen) = 'integer'`),
  ],
);

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

/** Every table of the ledger, in creation order. */
export const LEDGER_TABLES = [records, outbox, pendingBatches, meta];

/** The schema version the tables above describe; a change to them bumps it and adds an upgrade. */
export const LEDGER_SCHEMA_VERSION = 1;

/**
 * UPGRADES[v - 1] takes a file made by an older agent from version v to v + 1 (ALTER TABLE and
 * friends). A new file is created straight from the tables, so a step is a delta, never a second
 * copy of the schema, and ledger-schema.test.ts checks that an upgraded file ends up with the same
 * schema as a new one. Version 1 is the schema every ledger made so far has (it was raw DDL before).
 */
const UPGRADES: Array<(db: Database.Database) => void> = [];

/** Brings the file to LEDGER_SCHEMA_VERSION in one transaction, under `PRAGMA user_version`. */
export function migrateLedger(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > LEDGER_SCHEMA_VERSION) {
    throw new Error(
      `ledger schema v${current} is newer than this agent (v${LEDGER_SCHEMA_VERSION}); upgrade the agent`,
    );
  }
  if (current === LEDGER_SCHEMA_VERSION) return;
  db.transaction(() => {
    if (current === 0) for (const table of LEDGER_TABLES) db.exec(createTableSql(table));
    else for (let v = current; v < LEDGER_SCHEMA_VERSION; v++) UPGRADES[v - 1]?.(db);
    db.pragma(`user_version = ${LEDGER_SCHEMA_VERSION}`);
  })();
}
