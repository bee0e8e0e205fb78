import { preparePrivateDatabaseFile } from '@sceneway/core';
import Database from 'better-sqlite3';
import type { SQL } from 'drizzle-orm';
import { drizzle as sqliteDrizzle } from 'drizzle-orm/better-sqlite3';
import { drizzle as pgDrizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { SqlRunner } from './sql-fleet-store.ts';

const NAME = /^[a-z_][a-z0-9_]{0,40}$/;

/** The embedded default: one SQLite file (WAL), tables named `<prefix>boxes` and so on. */
export function sqliteRunner(path: string, prefix = 'fleet_'): SqlRunner {
  if (!NAME.test(prefix)) throw new Error(`invalid table prefix ${prefix}: letters, digits and _`);
  if (path !== ':memory:') preparePrivateDatabaseFile(path);
  const sqlite = new Database(path);
  sqlite.pragma('journal_mode = WAL');
  // Telemetry, not money: a box repeats its state every heartbeat, so a commit needs no fsync of its own
  // (WAL + NORMAL survives a crash of the server; a power cut may lose the last moments, which the next
  // heartbeats restore). With FULL every heartbeat waited for a disk flush (D40's bench: 391 msg/s).
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  const db = sqliteDrizzle(sqlite);
  return {
    dialect: 'sqlite',
    async run(query: SQL) {
      db.run(query);
    },
    async rows<T>(query: SQL) {
      return db.all(query) as T[];
    },
    table: (name) => `"${prefix}${name}"`,
    index: (name) => `"${prefix}${name}"`,
    async close() {
      sqlite.close();
    },
  };
}

/** At fleet scale: PostgreSQL, one schema holding the fleet's tables, shared by every replica. */
export function postgresRunner(url: string, schema = 'sceneway_fleet', poolSize = 5): SqlRunner {
  if (!NAME.test(schema)) throw new Error(`invalid schema name ${schema}: letters, digits and _`);
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    connectionTimeoutMillis: 10_000,
    // The same reasoning as SQLite's synchronous = NORMAL: a commit returns before its WAL flush. A crash
    // of PostgreSQL may lose the last few hundred milliseconds of telemetry, never consistency; the
    // next heartbeats restore it. Without it every heartbeat waited for a flush (D40: 146 of 200 msg/s).
    options: '-c synchronous_commit=off',
  });
  const db = pgDrizzle(pool);
  let created: Promise<unknown> | null = null;
  const ensureSchema = () => {
    // Replicas may start together: CREATE SCHEMA IF NOT EXISTS can still race in the catalog, so take a lock.
    created ??= pool.query(
      `SELECT pg_advisory_lock(hashtext('${schema}')); CREATE SCHEMA IF NOT EXISTS "${schema}"; SELECT pg_advisory_unlock(hashtext('${schema}'))`,
    );
    return created;
  };
  return {
    dialect: 'postgres',
    async run(query: SQL) {
      await ensureSchema();
      await db.execute(query);
    },
    async rows<T>(query: SQL) {
      await ensureSchema();
      return (await db.execute(query)).rows as T[];
    },
    table: (name) => `"${schema}"."${name}"`,
    index: (name) => `"${name}"`,
    close: () => pool.end(),
  };
}
