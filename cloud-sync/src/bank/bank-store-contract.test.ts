import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBankStoreContract } from './bank-store-contract.ts';
import { PgBankStore } from './pg-store.ts';
import { SqliteBankStore } from './sqlite-store.ts';
import { requireTestPg, TEST_PG_URL, testPgSchema } from './test-support/test-pg.ts';

// Every BankStore runs the one contract (docs/decisions.md D18).
runBankStoreContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-bank-contract-'));
  const store = new SqliteBankStore(join(dir, 'bank.db'));
  await store.init();
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

// Fails, never skips, without PostgreSQL: a skipped run would pass with the replicas' store untested.
runBankStoreContract('PostgreSQL (a schema per test)', async () => {
  await requireTestPg();
  const store = new PgBankStore({ url: TEST_PG_URL, schema: testPgSchema('bank_contract'), poolSize: 4 });
  await store.init();
  return {
    store,
    async cleanup() {
      await store.dropSchema();
      await store.close();
    },
  };
});
