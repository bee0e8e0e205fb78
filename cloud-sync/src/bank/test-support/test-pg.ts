import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PgBankStore } from '../pg-store.ts';

/** The PostgreSQL the tests use: this machine's (trust auth, database `test`) unless the env names another. */
export const TEST_PG_URL = process.env.SCENEWAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether TEST_PG_URL answers; PostgreSQL tests are skipped where it does not. */
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
