import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { generateSm2KeyPair } from '../crypto/sm2.ts';
import { startBankServer } from './server.ts';
import { loggableError } from './store-error.ts';
import { chainedBatches, newTestBox, postBatch } from './test-support/box-kit.ts';
import { dropTestPgSchema, requireTestPg, TEST_PG_URL, testPgSchema } from './test-support/test-pg.ts';

describe('store errors in the bank log', () => {
  it('keeps the driver message and code, never the statement or its parameters', () => {
    const driver = Object.assign(new Error('UNIQUE constraint failed: nonces.box_id, nonces.nonce'), {
      code: 'SQLITE_CONSTRAINT_PRIMARYKEY',
    });
    const wrapped = new Error('Failed query: INSERT INTO nonces VALUES (?, ?)\nparams: box-a,secret-nonce', {
      cause: driver,
    });
    expect(loggableError(wrapped)).toEqual({
      err: 'Error: UNIQUE constraint failed: nonces.box_id, nonces.nonce',
      code: 'SQLITE_CONSTRAINT_PRIMARYKEY',
    });
    expect(JSON.stringify(loggableError(new Error('Failed query: x\nparams: secret')))).not.toContain(
      'secret',
    );
  });

  for (const dialect of ['sqlite', 'postgres'] as const) {
    it(`logs a failing ${dialect} query of a real batch without its parameters`, async () => {
      if (dialect === 'postgres') await requireTestPg();
      const dir = mkdtempSync(join(tmpdir(), 'sceneway-bank-err-'));
      const schema = testPgSchema('bank_err');
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString());
          done();
        },
      });
      const bankKeys = generateSm2KeyPair();
      const bank = await startBankServer({
        ...(dialect === 'sqlite'
          ? { dbPath: join(dir, 'bank.db') }
          : { pgUrl: TEST_PG_URL, pgSchema: schema }),
        bankPrivateKeyHex: bankKeys.privateKeyHex,
        logDestination: sink,
      });
      try {
        const box = newTestBox('box-e');
        await bank.store.enrolBox({
          boxId: box.boxId,
          siteId: 'site-e',
          publicKeyHex: box.keys.publicKeyHex,
          enrolledAt: new Date().toISOString(),
        });
        // The next nonce statement fails inside drizzle, with the nonce among its parameters.
        if (dialect === 'sqlite') {
          const db = new Database(join(dir, 'bank.db'));
          db.exec('DROP TABLE nonces');
          db.close();
        } else {
          const client = new pg.Client({ connectionString: TEST_PG_URL });
          await client.connect();
          await client.query(`DROP TABLE "${schema}".nonces`);
          await client.end();
        }
        const [b] = chainedBatches(box, bankKeys.publicKeyHex, [2]);
        if (!b) throw new Error('no batch');
        const res = await postBatch(bank.url, { boxId: box.boxId, privateKeyHex: box.keys.privateKeyHex }, b);
        expect(res.status).toBe(503);
        const log = lines.join('');
        expect(log).toContain('internal error');
        expect(log).toMatch(/nonces/); // the driver's own message names the table
        expect(log).not.toContain(res.nonce);
        expect(log).not.toContain(box.boxId);
        expect(log).not.toMatch(/params:/i);
      } finally {
        await bank.close();
        if (dialect === 'postgres') await dropTestPgSchema(schema);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
