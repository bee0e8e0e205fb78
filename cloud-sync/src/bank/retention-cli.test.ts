import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH } from '../chain/record-chain.ts';
import { contractBatch } from './bank-store-contract.ts';
import { SqliteBankStore } from './sqlite-store.ts';

/**
 * `sceneway-bank retention` as an operator runs it from cron: the real command (bin → bundle) on a real
 * bank file. Personal data past the period (record seals, the batch's key envelope) is gone, down to
 * the file's bytes (secure_delete, bank standard 004 §5.1.4); money facts and recent seals stay.
 */
const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/sceneway-bank.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sceneway-bank-retention-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DAY = 86_400_000;
/** Distinctive sealed values: a hex run no other column holds, so a raw byte scan can only find them. */
const OLD_SEAL = 'c0ffee01'.repeat(8);
const OLD_ENVELOPE = 'e0e0dead'.repeat(8);
const NEW_SEAL = 'beef0202'.repeat(8);
const NEW_ENVELOPE = 'f00dface'.repeat(8);

const fileBytes = (path: string) =>
  Buffer.concat([path, `${path}-wal`].filter(existsSync).map((f) => readFileSync(f)));

describe('sceneway-bank retention (the command, on a real bank file)', () => {
  it('deletes old seals and key envelopes to the last byte and keeps money facts and recent seals', async () => {
    const db = join(dir, 'bank.db');
    const store = new SqliteBankStore(db);
    await store.init();
    await store.enrolBox({
      boxId: 'box-r',
      siteId: 'site-r',
      publicKeyHex: `04${'ab'.repeat(64)}`,
      enrolledAt: new Date(Date.now() - 90 * DAY).toISOString(),
    });
    const sealed = (batch: ReturnType<typeof contractBatch>, ciphertext: string) => ({
      ...batch,
      records: batch.records.map((r) => (r.piiSeal ? { ...r, piiSeal: { ...r.piiSeal, ciphertext } } : r)),
    });
    const old = sealed(
      contractBatch('box-r', 1, 1, 40, GENESIS_HASH, {
        receivedAt: new Date(Date.now() - 40 * DAY).toISOString(),
        keyEnvelope: OLD_ENVELOPE,
      }),
      OLD_SEAL,
    );
    const recent = sealed(
      contractBatch('box-r', 2, 41, 80, old.newChainHead, {
        receivedAt: new Date(Date.now() - 2 * DAY).toISOString(),
        keyEnvelope: NEW_ENVELOPE,
      }),
      NEW_SEAL,
    );
    expect(await store.commitBatch(old)).toEqual({ kind: 'stored' });
    expect(await store.commitBatch(recent)).toEqual({ kind: 'stored' });
    const moneyBefore = [
      ...(await store.recordsOfDay('box-r', '2026-03-01')),
      ...(await store.recordsOfDay('box-r', '2026-03-02')),
    ];
    await store.close(); // closing checkpoints the WAL into the file
    // The scan can see them: before retention, both generations are in the file's bytes.
    for (const marker of [OLD_SEAL, OLD_ENVELOPE, NEW_SEAL, NEW_ENVELOPE])
      expect([marker, fileBytes(db).includes(marker)]).toEqual([marker, true]);

    const { stdout } = await run(process.execPath, [BIN, 'retention', '--days', '30', '--db', db], {
      cwd: tmpdir(),
    });
    expect(stdout).toMatch(/deleted: 1 key envelopes, 20 record seals/);

    const bytes = fileBytes(db);
    for (const marker of [OLD_SEAL, OLD_ENVELOPE])
      expect([marker, bytes.includes(marker)]).toEqual([marker, false]);
    for (const marker of [NEW_SEAL, NEW_ENVELOPE])
      expect([marker, bytes.includes(marker)]).toEqual([marker, true]);

    const after = new SqliteBankStore(db);
    await after.init();
    try {
      expect(await after.recordCount('box-r')).toBe(80);
      expect([
        ...(await after.recordsOfDay('box-r', '2026-03-01')),
        ...(await after.recordsOfDay('box-r', '2026-03-02')),
      ]).toEqual(moneyBefore);
    } finally {
      await after.close();
    }
    const raw = new Database(db, { readonly: true });
    try {
      const seals = raw
        .prepare('SELECT seq, pii_encrypted IS NOT NULL AS sealed FROM records ORDER BY seq')
        .all();
      // Even seqs carry a seal (contractBatch): those of batch 1 (1..40) are gone, batch 2's stay.
      expect(seals).toEqual(
        Array.from({ length: 80 }, (_, i) => ({
          seq: i + 1,
          sealed: i + 1 > 40 && (i + 1) % 2 === 0 ? 1 : 0,
        })),
      );
      const envelopes = raw.prepare('SELECT batch_seq, key_envelope FROM batches ORDER BY batch_seq').all();
      expect(envelopes).toEqual([
        { batch_seq: 1, key_envelope: null },
        { batch_seq: 2, key_envelope: NEW_ENVELOPE },
      ]);
    } finally {
      raw.close();
    }
  });
});
