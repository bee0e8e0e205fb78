import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PgBankStore } from '../pg-store.ts';

/** The PostgreSQL the tests use: this machine's (trust auth, database `test`) unless the env names another. */
export const TEST_PG_URL = process.env.SCENEWAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Fails, with what to do, when TEST_PG_URL does not answer. PostgreSQL tests never skip: CI always has
 * a PostgreSQL (.ci/run starts it), and a skipped test is a green one that proved nothing.
 */
export async function requireTestPg(): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
  } catch (err) {
    const where = new URL(TEST_PG_URL);
    where.password = '';
    throw new Error(
      `PostgreSQL at ${where.href} does not answer (${(err as Error).message}). Start it ` +
        '(.ci/run does: pg_ctlcluster <version> main start) or set SCENEWAY_TEST_PG_URL to one that runs; ' +
        'PostgreSQL tests fail rather than skip.',
      { cause: err },
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A fresh schema name per test run, so runs never see each other's banks. */
export function testPgSchema(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export async function dropTestPgSchema(schema: string): Promise<void> {
  const store = new PgBankStore({ url: TEST_PG_URL, schema });
  try {
    await store.dropSchema();
  } finally {
    await store.close();
  }
}
