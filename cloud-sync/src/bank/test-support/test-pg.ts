import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PgBankStore } from '../pg-store.ts';

/** The PostgreSQL the tests use: this machine's (trust auth, database `test`) unless the env names another. */
export const TEST_PG_URL = process.env.SCENEWAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether TEST_PG_URL answers. */
export async function testPgReachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

let reachable: Promise<boolean> | undefined;

/**
 * For tests that must run on PostgreSQL: throws (the test fails, it is not skipped) when TEST_PG_URL
 * does not answer, saying how to start one. Asked once per test file.
 */
export async function requireTestPg(): Promise<void> {
  reachable ??= testPgReachable();
  if (await reachable) return;
  throw new Error(
    `PostgreSQL is not reachable at ${TEST_PG_URL}, and these tests need it. Start it ` +
      '(`pg_ctlcluster 15 main start`, or `docker run --rm -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust ' +
      '-e POSTGRES_DB=test postgres:15`), or point SCENEWAY_TEST_PG_URL at one (trust auth, an empty database).',
  );
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
