import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isGatewayError } from '../gateway-error.ts';
import { openLedger } from './ledger.ts';
import { LEDGER_SCHEMA_VERSION } from './ledger-schema.ts';
import { saleInput, TEST_DATA_KEY } from './test-support.ts';
import { verifyLedgerFile } from './verify-ledger.ts';

/**
 * The raw DDL every agent before D18 created its ledger with (then ledger-schema.ts MIGRATIONS[0],
 * user_version 1). Frozen here as the shape of the files on boxes in the field: never edit it.
 */
const V1_DDL = `CREATE TABLE records (
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
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`;

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempPath = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-schema-'));
  dirs.push(dir);
  return join(dir, 'ledger.db');
};

/** The CHECK expressions of a CREATE TABLE text, whitespace-normalised, wherever they are written. */
function checksOf(createSql: string): string[] {
  const found: string[] = [];
  for (let at = createSql.indexOf('CHECK'); at >= 0; at = createSql.indexOf('CHECK', at + 1)) {
    const open = createSql.indexOf('(', at);
    let depth = 0;
    let end = open;
    for (; end < createSql.length; end++) {
      if (createSql[end] === '(') depth++;
      if (createSql[end] === ')' && --depth === 0) break;
    }
    found.push(
      createSql
        .slice(open + 1, end)
        .replace(/\s+/g, ' ')
        .trim(),
    );
  }
  return found;
}

/** Everything SQLite enforces about the ledger's tables, as data two files can be compared by. */
function schemaOf(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    const tables = db
      .prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .all() as Array<{ name: string; sql: string }>;
    return tables.map((t) => ({
      table: t.name,
      columns: db.pragma(`table_xinfo("${t.name}")`),
      indexes: (
        db.pragma(`index_list("${t.name}")`) as Array<{ name: string; unique: number; origin: string }>
      )
        .map((i) => ({ unique: i.unique, origin: i.origin, columns: db.pragma(`index_info("${i.name}")`) }))
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      checks: checksOf(t.sql),
    }));
  } finally {
    db.close();
  }
}

const v1File = () => {
  const path = tempPath();
  const db = new Database(path);
  db.exec(V1_DDL);
  db.pragma('user_version = 1');
  db.close();
  return path;
};

describe('ledger schema: one source (the drizzle tables)', () => {
  it('creates a new ledger with exactly the schema of the ledgers already on boxes', async () => {
    const path = tempPath();
    await openLedger({ path, boxId: 'box-1', dataKey: TEST_DATA_KEY }).close();
    const fresh = schemaOf(path);
    expect(fresh.map((t) => t.table)).toEqual(['meta', 'outbox', 'pending_batches', 'records']);
    expect(fresh).toEqual(schemaOf(v1File()));
  });

  it('opens a ledger made with the old DDL as it is, keeps its records and chains new ones on', async () => {
    const path = v1File();
    const first = openLedger({ path, boxId: 'box-1', dataKey: TEST_DATA_KEY });
    await Promise.all([1, 2, 3].map((i) => first.append(saleInput(i, { idempotencyKey: `k${i}` }))));
    await first.close();
    const again = openLedger({ path, boxId: 'box-1', dataKey: TEST_DATA_KEY });
    expect(again.findByIdempotencyKey('k2')).toMatchObject({ kind: 'sale' });
    expect((await again.append(saleInput(4))).record.seq).toBe(4);
    expect(again.db.pragma('user_version', { simple: true })).toBe(LEDGER_SCHEMA_VERSION);
    await again.close();
    expect(verifyLedgerFile(path)).toMatchObject({ ok: true, records: 4 });
  });

  it('keeps money an integer in the file itself, below the append checks', async () => {
    const path = tempPath();
    await openLedger({ path, boxId: 'box-1', dataKey: TEST_DATA_KEY }).close();
    const db = new Database(path);
    const insert = db.prepare(
      `INSERT INTO records (seq, box_id, kind, amount_fen, payload, recorded_at, clock_offset_ms, prev_hash, hash)
       VALUES (?, 'b', 'sale', ?, '{}', 't', 0, 'p', 'h')`,
    );
    expect(() => insert.run(1, 12.5)).toThrow(/CHECK constraint failed/);
    insert.run(1, 1250);
    db.close();
  });

  it('refuses a ledger from a newer agent instead of guessing at its schema', () => {
    const path = tempPath();
    const db = new Database(path);
    db.pragma(`user_version = ${LEDGER_SCHEMA_VERSION + 1}`);
    db.close();
    let error: unknown;
    try {
      openLedger({ path, boxId: 'box-1', dataKey: TEST_DATA_KEY });
    } catch (e) {
      error = e;
    }
    expect(isGatewayError(error, 'LEDGER_OPEN')).toBe(true);
    expect((error as Error).message).toMatch(/newer than this agent .*upgrade the agent/);
  });
});
