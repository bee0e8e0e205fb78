import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { BANK_TABLES, missingColumnsSql } from './bank-schema.ts';
import { PgBankStore } from './pg-store.ts';
import { SqliteBankStore } from './sqlite-store.ts';
import { requireTestPg, TEST_PG_URL, testPgSchema } from './test-support/test-pg.ts';

/**
 * The hand-written DDL each store created banks with before D18, frozen here as the shape of the
 * banks that exist: the generated DDL must give the same tables. Never edit these.
 */
const SQLITE_BEFORE = [
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

const pgBefore = (s: string) => [
  `CREATE TABLE IF NOT EXISTS "${s}".boxes (box_id TEXT PRIMARY KEY, public_key TEXT NOT NULL,
    site_id TEXT NOT NULL, enrolled_at TEXT NOT NULL, head_seq BIGINT NOT NULL DEFAULT 0, head_hash TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS "${s}".batches (box_id TEXT NOT NULL, batch_seq BIGINT NOT NULL,
    digest TEXT NOT NULL, first_seq BIGINT NOT NULL, last_seq BIGINT NOT NULL, received_at TEXT NOT NULL,
    key_envelope TEXT, PRIMARY KEY (box_id, batch_seq))`,
  `CREATE TABLE IF NOT EXISTS "${s}".records (box_id TEXT NOT NULL, seq BIGINT NOT NULL,
    kind TEXT NOT NULL, terminal_id TEXT, amount_fen BIGINT, recorded_at TEXT NOT NULL, hash TEXT NOT NULL,
    payload JSONB NOT NULL, pii_encrypted JSONB, batch_seq BIGINT NOT NULL, PRIMARY KEY (box_id, seq))`,
  `CREATE TABLE IF NOT EXISTS "${s}".nonces (box_id TEXT NOT NULL, nonce TEXT NOT NULL,
    seen_at BIGINT NOT NULL, PRIMARY KEY (box_id, nonce))`,
  `CREATE TABLE IF NOT EXISTS "${s}".alerts (id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL,
    kind TEXT NOT NULL, box_id TEXT NOT NULL, detail TEXT NOT NULL)`,
];

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempPath = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-bank-schema-'));
  dirs.push(dir);
  return join(dir, name);
};

function sqliteSchemaOf(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    return BANK_TABLES.map((t) => ({
      table: t.name,
      columns: db.pragma(`table_xinfo(${t.name})`),
      indexes: (
        db.pragma(`index_list(${t.name})`) as Array<{ name: string; unique: number; origin: string }>
      ).map((i) => ({ unique: i.unique, origin: i.origin, columns: db.pragma(`index_info("${i.name}")`) })),
      autoincrement: /AUTOINCREMENT/i.test(
        (db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').pluck().get(t.name) as string) ?? '',
      ),
    }));
  } finally {
    db.close();
  }
}

async function pgSchemaOf(client: pg.Client, schema: string) {
  const columns = await client.query(
    `SELECT table_name, column_name, ordinal_position, data_type, is_nullable,
            replace(column_default, $1, 'S') AS column_default
       FROM information_schema.columns WHERE table_schema = $2 ORDER BY table_name, ordinal_position`,
    [`${schema}.`, schema],
  );
  const keys = await client.query(
    `SELECT tc.table_name, tc.constraint_type, kcu.column_name, kcu.ordinal_position
       FROM information_schema.table_constraints tc
       JOIN information_schema.key_column_usage kcu
         ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
      WHERE tc.table_schema = $1 ORDER BY tc.table_name, kcu.ordinal_position`,
    [schema],
  );
  return { columns: columns.rows, keys: keys.rows };
}

describe('bank schema: one definition for both stores', () => {
  it('gives a new SQLite bank exactly the tables of the banks made with the hand-written DDL', async () => {
    const before = tempPath('before.db');
    const db = new Database(before);
    for (const ddl of SQLITE_BEFORE) db.exec(ddl);
    db.close();
    const now = tempPath('now.db');
    const store = new SqliteBankStore(now);
    await store.init();
    await store.close();
    expect(sqliteSchemaOf(now)).toEqual(sqliteSchemaOf(before));
  });

  it('gives a new PostgreSQL bank exactly the tables of the banks made with the hand-written DDL', async () => {
    await requireTestPg();
    const client = new pg.Client({ connectionString: TEST_PG_URL });
    await client.connect();
    const before = testPgSchema('bank_schema_before');
    const nowName = testPgSchema('bank_schema_now');
    const now = new PgBankStore({ url: TEST_PG_URL, schema: nowName });
    onTestFinished(async () => {
      await client.query(`DROP SCHEMA IF EXISTS "${before}" CASCADE`);
      await client.end();
      await now.dropSchema();
      await now.close();
    });
    await client.query(`CREATE SCHEMA "${before}"`);
    for (const ddl of pgBefore(before)) await client.query(ddl);
    await now.init();
    await now.init(); // a second replica starting finds it all there
    expect(await pgSchemaOf(client, nowName)).toEqual(await pgSchemaOf(client, before));
  });

  it('adds the columns a bank made by an older version lacks, on PostgreSQL too', async () => {
    await requireTestPg();
    const schema = testPgSchema('bank_schema_old');
    const client = new pg.Client({ connectionString: TEST_PG_URL });
    await client.connect();
    const store = new PgBankStore({ url: TEST_PG_URL, schema });
    onTestFinished(async () => {
      await client.end();
      await store.dropSchema();
      await store.close();
    });
    await client.query(`CREATE SCHEMA "${schema}"`);
    // The batches table as banks made before 2026-11-29 have it: no key_envelope.
    await client.query(`CREATE TABLE "${schema}".batches (box_id TEXT NOT NULL, batch_seq BIGINT NOT NULL,
      digest TEXT NOT NULL, first_seq BIGINT NOT NULL, last_seq BIGINT NOT NULL, received_at TEXT NOT NULL,
      PRIMARY KEY (box_id, batch_seq))`);
    await client.query(`INSERT INTO "${schema}".batches VALUES ('box-a', 1, 'd', 1, 2, 't')`);
    await store.init();
    const columns = await client.query(
      `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'batches'`,
      [schema],
    );
    expect(columns.rows.map((r: { column_name: string }) => r.column_name)).toContain('key_envelope');
    expect((await client.query(`SELECT count(*)::int AS n FROM "${schema}".batches`)).rows[0]).toEqual({
      n: 1,
    });
  });

  it('refuses to add a required column to an existing table, saying what to do', () => {
    const batches = BANK_TABLES.find((t) => t.name === 'batches');
    if (!batches) throw new Error('no batches table');
    const existing = new Set(batches.columns.map((c) => c.name).filter((n) => n !== 'digest'));
    expect(() => missingColumnsSql('sqlite', batches, existing)).toThrow(
      /lacks the required column digest.*migrate the bank database by hand/,
    );
    existing.add('digest');
    existing.delete('key_envelope');
    expect(missingColumnsSql('postgres', batches, existing)).toEqual(['ADD COLUMN key_envelope TEXT']);
  });
});
