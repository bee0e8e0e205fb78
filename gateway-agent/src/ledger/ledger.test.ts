import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { canonicalBytes, personalDataFromPlaintext, piiDigestOf, sm4CbcEncrypt } from '@sceneway/cloud-sync';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { manualClock } from '../clock.ts';
import { isGatewayError } from '../gateway-error.ts';
import { openLedger } from './ledger.ts';
import { createOutbox } from './outbox.ts';
import { pruneAcknowledged } from './retention.ts';
import { saleInput, TEST_DATA_KEY, tempLedgerPath } from './test-support.ts';
import { verifyLedgerFile } from './verify-ledger.ts';

const open = (path: string, extra: Partial<Parameters<typeof openLedger>[0]> = {}) =>
  openLedger({ path, boxId: 'box-1', dataKey: TEST_DATA_KEY, ...extra });

// Append, idempotency, withinCommit, validation, stats and close are the Ledger contract
// (ledger-contract.ts, run by ledger-contract.test.ts); this file keeps what only the SQLite file shows.
describe('ledger personal data at rest', () => {
  it('keeps personal data SM4-sealed at rest and opens it for the uploader', async () => {
    const path = tempLedgerPath();
    const ledger = open(path);
    await ledger.append(saleInput(7));
    await ledger.close();
    const raw =
      readFileSync(path).toString('latin1') +
      (existsSync(`${path}-wal`) ? readFileSync(`${path}-wal`).toString('latin1') : '');
    expect(raw).not.toContain('6222000000000007');
    const reopened = open(path);
    const [row] = createOutbox(reopened).readUnsynced(0, 10);
    const entry = personalDataFromPlaintext(row?.personalData ?? Buffer.alloc(0), 'record 1');
    expect(entry.pii).toEqual({ cardNumber: '6222000000000007' });
    expect(piiDigestOf(entry.salt, entry.pii)).toBe(row?.record.piiDigest);
    await reopened.close();
  });

  it('still opens personal data sealed in the earlier nested format, and names a record it cannot open', async () => {
    const path = tempLedgerPath();
    const ledger = open(path);
    await ledger.append(saleInput(7));
    await ledger.append(saleInput(8));
    const [first] = createOutbox(ledger).readUnsynced(0, 1);
    await ledger.close();
    const current = first?.personalData ?? Buffer.alloc(0);
    const { salt, pii } = personalDataFromPlaintext(current, 'record 1');
    const nested = sm4CbcEncrypt(TEST_DATA_KEY, canonicalBytes({ salt, fields: pii }));
    const db = new Database(path);
    db.prepare('UPDATE records SET pii_iv = ?, pii_sealed = ? WHERE seq = 1').run(
      nested.iv,
      nested.ciphertext,
    );
    db.prepare('UPDATE records SET pii_sealed = randomblob(length(pii_sealed)) WHERE seq = 2').run();
    db.close();

    const reopened = open(path);
    const outbox = createOutbox(reopened);
    expect(outbox.readUnsynced(0, 1)[0]?.personalData).toEqual(current);
    try {
      outbox.readUnsynced(0, 2);
      expect.unreachable('a record sealed under no known key must not open');
    } catch (err) {
      // Random bytes leave valid PKCS#7 padding with probability ~1/256; then the JSON check refuses.
      expect(isGatewayError(err) && err.code).toBe('LEDGER_PII_UNREADABLE');
      expect((err as Error).message).toMatch(/record 2/);
    }
    await reopened.close();
  });
});

// Durability (WAL sync, fsync at open, a failed fsync, a missing tail): ledger-durability.test.ts.

describe('ledger boot check', () => {
  it('quarantines a file whose pages were overwritten, never deleting it', async () => {
    const path = tempLedgerPath();
    const ledger = open(path);
    await Promise.all(Array.from({ length: 2000 }, (_, i) => ledger.append(saleInput(i))));
    await ledger.close();
    const bytes = readFileSync(path);
    bytes.fill(0xa5, 8192, 8192 + 4096 * 4);
    writeFileSync(path, bytes);
    let error: unknown;
    try {
      open(path);
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(/moved to .*quarantine/);
    expect(isGatewayError(error, 'LEDGER_QUARANTINED')).toBe(true);
    expect(existsSync(path)).toBe(false);
    const moved = readdirSync(join(dirname(path), 'quarantine'));
    expect(moved.some((f) => f.endsWith('.damaged'))).toBe(true);
  });

  it('quarantines a ledger whose records were edited behind its back (chain break)', async () => {
    const path = tempLedgerPath();
    const alerts: string[] = [];
    const ledger = open(path);
    await Promise.all(Array.from({ length: 10 }, (_, i) => ledger.append(saleInput(i))));
    await ledger.close();
    const db = new Database(path);
    db.prepare("DELETE FROM meta WHERE key LIKE 'verified_%'").run();
    db.prepare('UPDATE records SET amount_fen = 1 WHERE seq = 4').run();
    db.close();
    expect(verifyLedgerFile(path)).toMatchObject({ ok: false, chainBreak: { seq: 4 } });
    expect(() => open(path, { alerts: { raise: (a) => alerts.push(a.code), clear: () => {} } })).toThrow(
      /hash chain broken at record 4/,
    );
    expect(alerts).toEqual(['LEDGER_QUARANTINED']);
  });
});

describe('ledger disk full', () => {
  it('refuses new records with LEDGER_DISK_FULL, keeps every acknowledged one, and recovers', async () => {
    const path = tempLedgerPath();
    const alerts: string[] = [];
    const ledger = open(path, {
      maxSizeMb: 1,
      alerts: { raise: (a) => alerts.push(a.code), clear: (c) => alerts.push(`clear:${c}`) },
    });
    const acked: number[] = [];
    let refusal: unknown;
    for (let round = 0; round < 200 && !refusal; round++) {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) => ledger.append(saleInput(round * 50 + i))),
      );
      for (const o of outcomes) {
        if (o.status === 'fulfilled') acked.push(o.value.record.seq);
        else refusal = o.reason;
      }
    }
    expect(isGatewayError(refusal, 'LEDGER_DISK_FULL')).toBe(true);
    expect(alerts).toContain('LEDGER_DISK_FULL');
    expect([...acked].sort((a, b) => a - b)).toEqual(acked.map((_, i) => i + 1));
    ledger.setMaxSizeMb(8); // space returns
    const after = await Promise.all(
      Array.from({ length: 50 }, (_, i) => ledger.append(saleInput(100_000 + i))),
    );
    expect(after.map((a) => a.record.seq).sort((a, b) => a - b)[0]).toBe(acked.length + 1);
    expect(alerts).toContain('clear:LEDGER_DISK_FULL');
    await ledger.close();
    const verified = verifyLedgerFile(path);
    expect(verified).toMatchObject({ ok: true, records: acked.length + 50 });
  });

  it('refuses below the configured free-space floor before SQLite has to', async () => {
    const ledger = open(tempLedgerPath(), { freeSpaceFloorMb: Number.MAX_SAFE_INTEGER });
    await expect(ledger.append(saleInput(1))).rejects.toMatchObject({
      code: 'LEDGER_DISK_FULL',
      message: /below the floor/,
    });
    expect(ledger.stats().headSeq).toBe(0);
    await ledger.close();
  });
});

describe('outbox acknowledgements', () => {
  it('an ack recorded late, after a later one, drops its batch but never moves the watermark back', async () => {
    const ledger = open(tempLedgerPath());
    for (let i = 0; i < 4; i++) await ledger.append(saleInput(i));
    const outbox = createOutbox(ledger);
    const records = outbox.readUnsynced(0, 4).map((u) => u.record);
    const batchOf = (batchSeq: number, from: number, to: number) => ({
      batchSeq,
      firstSeq: from,
      lastSeq: to,
      recordCount: to - from + 1,
      prevChainHead: records[from - 2]?.hash ?? '0'.repeat(64),
      chainHead: records[to - 1]!.hash,
      digest: String(batchSeq).repeat(64),
      body: Buffer.from('{}'),
      createdAt: new Date().toISOString(),
    });
    const first = batchOf(1, 1, 2);
    const second = batchOf(2, 3, 4);
    outbox.savePendingBatch(first);
    outbox.savePendingBatch(second);
    expect(outbox.oldestPendingBatch()?.batchSeq).toBe(1);
    expect(outbox.oldestPendingBatch(1)?.batchSeq).toBe(2);

    outbox.markBatchAcknowledged(second, '{"ack":2}');
    expect(outbox.oldestPendingBatch()).toBeNull(); // the earlier batch went with it
    expect(ledger.stats()).toMatchObject({ unsyncedCount: 0 });
    outbox.markBatchAcknowledged(first, '{"ack":1}');
    expect(outbox.cursor()).toEqual({ nextBatchSeq: 3, afterSeq: 4, chainHead: records[3]!.hash });
    expect(ledger.stats()).toMatchObject({ unsyncedCount: 0 });
    await ledger.close();
  });
});

describe('retention', () => {
  it('prunes only acknowledged records older than the cutoff, and the rest still verifies', async () => {
    const path = tempLedgerPath();
    const clock = manualClock(Date.UTC(2026, 0, 1));
    const ledger = open(path, { clock });
    for (let i = 0; i < 30; i++) {
      await ledger.append(saleInput(i));
      clock.advance(86_400_000); // one record per day
    }
    const outbox = createOutbox(ledger);
    const firstTwenty = outbox.readUnsynced(0, 20).map((u) => u.record);
    const last = firstTwenty.at(-1)!;
    const batch = {
      batchSeq: 1,
      firstSeq: 1,
      lastSeq: last.seq,
      recordCount: 20,
      prevChainHead: '0'.repeat(64),
      chainHead: last.hash,
      digest: 'd'.repeat(64),
      body: Buffer.from('{}'),
      createdAt: new Date(clock.now()).toISOString(),
    };
    outbox.savePendingBatch(batch);
    outbox.markBatchAcknowledged(batch, '{}');
    // Cutoff after day 25: records 1-25 are old enough, but only 1-20 are acknowledged.
    const result = pruneAcknowledged(ledger, new Date(Date.UTC(2026, 0, 26)));
    expect(result).toEqual({ pruned: 20, prunedThroughSeq: 20 });
    expect(ledger.stats()).toMatchObject({ unsyncedCount: 10, headSeq: 30 });
    await ledger.close();
    expect(verifyLedgerFile(path)).toMatchObject({ ok: true, records: 10, head: { seq: 30 } });
    const reopened = open(path);
    expect(
      createOutbox(reopened)
        .readUnsynced(0, 100)
        .map((u) => u.record.seq),
    ).toEqual(Array.from({ length: 10 }, (_, i) => 21 + i));
    await reopened.close();
  });
});
