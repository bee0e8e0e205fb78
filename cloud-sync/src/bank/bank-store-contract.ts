import { describe, expect, it, onTestFinished } from 'vitest';
import { GENESIS_HASH } from '../chain/record-chain.ts';
import { decideBatchAdmission } from './batch-admission.ts';
import type { BankStore, BatchToCommit, CommitOutcome, StoredRecord } from './store.ts';

/**
 * TESTS ONLY. The BankStore contract (store.ts) as one suite that every store runs: SQLite and
 * PostgreSQL (aedes' abstract persistence tests; docs/decisions.md D18). Each case gets a fresh,
 * initialised store from `make` and hands it back to `cleanup` when it ends.
 */
export interface BankStoreUnderTest {
  store: BankStore;
  cleanup(): Promise<void>;
}

const hash = (label: string) => label.padEnd(64, '0').slice(0, 64);

/** A batch of records `firstSeq..lastSeq` continuing `prevChainHead`; content made up, stores do not check it. */
export function contractBatch(
  boxId: string,
  batchSeq: number,
  firstSeq: number,
  lastSeq: number,
  prevChainHead: string,
  extra: Partial<BatchToCommit> = {},
): BatchToCommit {
  const records: StoredRecord[] = [];
  for (let seq = firstSeq; seq <= lastSeq; seq++) {
    records.push({
      seq,
      kind: seq % 5 === 0 ? 'alert' : 'sale',
      terminalId: seq % 5 === 0 ? null : `pos-${seq % 3}`,
      amountFen: seq % 5 === 0 ? null : 100 * seq,
      recordedAt: `2026-03-0${1 + (seq % 2)}T04:00:${String(seq % 60).padStart(2, '0')}.000Z`,
      hash: hash(`${boxId}-r${seq}`),
      payload: { receiptNo: seq, nested: { ok: true } },
      piiSeal:
        seq % 2 === 0 ? { iv: '00'.repeat(16), ciphertext: 'ab'.repeat(32), piiDigest: hash('p') } : null,
    });
  }
  return {
    boxId,
    batchSeq,
    digest: hash(`${boxId}-b${batchSeq}-${firstSeq}-${lastSeq}`),
    firstSeq,
    lastSeq,
    prevChainHead,
    newChainHead: hash(`${boxId}-r${lastSeq}`),
    receivedAt: '2026-03-02T04:00:00.000Z',
    keyEnvelope: 'e'.repeat(64),
    records,
    ...extra,
  };
}

const enrol = (store: BankStore, boxId: string, publicKeyHex = `04${'a'.repeat(128)}`) =>
  store.enrolBox({ boxId, siteId: `site-${boxId}`, publicKeyHex, enrolledAt: '2026-03-01T00:00:00.000Z' });

const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
};

export function runBankStoreContract(implementation: string, make: () => Promise<BankStoreUnderTest>): void {
  const fresh = async (): Promise<BankStore> => {
    const subject = await make();
    onTestFinished(() => subject.cleanup());
    return subject.store;
  };

  describe(`BankStore contract: ${implementation}`, () => {
    it('enrols a box at the genesis head; a second init and a re-enrolment keep what is stored', async () => {
      const store = await fresh();
      expect(await store.getBox('box-a')).toBeNull();
      await enrol(store, 'box-a');
      expect(await store.getBox('box-a')).toEqual({
        boxId: 'box-a',
        siteId: 'site-box-a',
        publicKeyHex: `04${'a'.repeat(128)}`,
        enrolledAt: '2026-03-01T00:00:00.000Z',
        headSeq: 0,
        headHash: GENESIS_HASH,
      });
      const b1 = contractBatch('box-a', 1, 1, 3, GENESIS_HASH);
      expect(await store.commitBatch(b1)).toEqual({ kind: 'stored' });
      await store.init();
      // A replaced box gets its new key, but the chain head never rewinds.
      await enrol(store, 'box-a', `04${'b'.repeat(128)}`);
      expect(await store.getBox('box-a')).toMatchObject({
        publicKeyHex: `04${'b'.repeat(128)}`,
        headSeq: 3,
        headHash: b1.newChainHead,
      });
      expect(await store.recordCount('box-a')).toBe(3);
    });

    it('decides every batch as decideBatchAdmission does, and stores only what it admits', async () => {
      const store = await fresh();
      await enrol(store, 'box-a');
      const b1 = contractBatch('box-a', 1, 1, 3, GENESIS_HASH);
      const b2 = contractBatch('box-a', 2, 4, 5, b1.newChainHead);
      const steps: Array<{ batch: BatchToCommit; expected: CommitOutcome['kind'] }> = [
        { batch: contractBatch('box-unknown', 1, 1, 2, GENESIS_HASH), expected: 'not-enrolled' },
        { batch: b2, expected: 'chain-broken' }, // sent before its predecessor
        { batch: contractBatch('box-a', 1, 2, 3, GENESIS_HASH), expected: 'sequence-gap' },
        { batch: b1, expected: 'stored' },
        { batch: b1, expected: 'duplicate' }, // the resend after a lost ack
        { batch: { ...b1, digest: hash('forged') }, expected: 'conflict' },
        { batch: contractBatch('box-a', 2, 5, 6, b1.newChainHead), expected: 'sequence-gap' },
        { batch: contractBatch('box-a', 2, 4, 5, hash('elsewhere')), expected: 'chain-broken' },
        { batch: b2, expected: 'stored' },
        { batch: b1, expected: 'duplicate' }, // an old resend after the head moved on
      ];
      const storedDigests = new Map<number, string>();
      for (const { batch, expected } of steps) {
        const box = await store.getBox(batch.boxId);
        const decision = decideBatchAdmission({
          head: box && { seq: box.headSeq, hash: box.headHash },
          storedDigest: box ? (storedDigests.get(batch.batchSeq) ?? null) : null,
          batch,
        });
        const outcome = await store.commitBatch(batch);
        expect(outcome).toEqual(decision.kind === 'store' ? { kind: 'stored' } : decision);
        expect(outcome.kind).toBe(expected);
        if (outcome.kind === 'stored') storedDigests.set(batch.batchSeq, batch.digest);
      }
      expect(await store.getBox('box-a')).toMatchObject({ headSeq: 5, headHash: b2.newChainHead });
      expect(await store.recordCount('box-a')).toBe(5);
      expect(await store.recordCount()).toBe(5);
    });

    it('stores nothing and keeps the head when the ingest checks reject, then stores the batch once they pass', async () => {
      const store = await fresh();
      await enrol(store, 'box-a');
      const b1 = contractBatch('box-a', 1, 1, 4, GENESIS_HASH);
      const refused = new Error('BATCH_SIGNATURE: checks failed');
      const checks = Promise.reject(refused);
      checks.catch(() => {}); // as ingest.ts does: the store may look at it only after its own reads
      const error = await rejection(store.commitBatch(b1, checks));
      expect(error).toBe(refused);
      expect(await store.getBox('box-a')).toMatchObject({ headSeq: 0, headHash: GENESIS_HASH });
      expect(await store.recordCount()).toBe(0);
      expect(await store.status()).toEqual([
        { boxId: 'box-a', siteId: 'site-box-a', headSeq: 0, records: 0, lastBatch: null },
      ]);
      expect(await store.commitBatch(b1, Promise.resolve())).toEqual({ kind: 'stored' });
      expect(await store.recordCount()).toBe(4);
    });

    // The checks never settle here: a store that waits for them never answers, and the test's own
    // timeout (a hang guard, not a speed assertion) fails it.
    it('answers a batch it will not store without waiting for the ingest checks', {
      timeout: 10_000,
    }, async () => {
      const store = await fresh();
      await enrol(store, 'box-a');
      const b1 = contractBatch('box-a', 1, 1, 2, GENESIS_HASH);
      await store.commitBatch(b1);
      const never = new Promise<void>(() => {});
      expect(await store.commitBatch(b1, never)).toEqual({ kind: 'duplicate' });
      expect(await store.commitBatch(contractBatch('box-b', 1, 1, 2, GENESIS_HASH), never)).toEqual({
        kind: 'not-enrolled',
      });
      expect((await store.commitBatch(contractBatch('box-a', 2, 4, 5, b1.newChainHead), never)).kind).toBe(
        'sequence-gap',
      );
    });

    it('stores a batch raced by many concurrent commits exactly once', async () => {
      const store = await fresh();
      await enrol(store, 'box-a');
      const b1 = contractBatch('box-a', 1, 1, 50, GENESIS_HASH);
      const forged = { ...contractBatch('box-a', 1, 1, 50, GENESIS_HASH), digest: hash('forged') };
      const outcomes = await Promise.all([
        ...Array.from({ length: 6 }, () => store.commitBatch(b1, Promise.resolve())),
        store.commitBatch(forged, Promise.resolve()),
      ]);
      const stored = outcomes.filter((o) => o.kind === 'stored');
      expect(stored).toHaveLength(1);
      for (const o of outcomes) expect(['stored', 'duplicate', 'conflict']).toContain(o.kind);
      expect(await store.recordCount()).toBe(50);
      // Whichever won, the head is that batch's and a resend of it is a duplicate.
      const box = await store.getBox('box-a');
      expect(box?.headSeq).toBe(50);
      const winner = box?.headHash === b1.newChainHead ? b1 : forged;
      expect(await store.commitBatch(winner)).toEqual({ kind: 'duplicate' });
    });

    it('reports each box with its head, record count and last batch, in box order', async () => {
      const store = await fresh();
      await enrol(store, 'box-b');
      await enrol(store, 'box-a');
      const a1 = contractBatch('box-a', 1, 1, 3, GENESIS_HASH);
      const a2 = contractBatch('box-a', 2, 4, 7, a1.newChainHead, { receivedAt: '2026-03-02T05:00:00.000Z' });
      for (const b of [a1, a2]) await store.commitBatch(b);
      expect(await store.status()).toEqual([
        {
          boxId: 'box-a',
          siteId: 'site-box-a',
          headSeq: 7,
          records: 7,
          lastBatch: { batchSeq: 2, lastSeq: 7, receivedAt: '2026-03-02T05:00:00.000Z' },
        },
        { boxId: 'box-b', siteId: 'site-box-b', headSeq: 0, records: 0, lastBatch: null },
      ]);
      expect(await store.recordCount('box-b')).toBe(0);
    });

    it("returns one box's records of one UTC day in seq order, money as integers and nulls kept", async () => {
      const store = await fresh();
      await enrol(store, 'box-a');
      await enrol(store, 'box-b');
      const big = Number.MAX_SAFE_INTEGER;
      const a1 = contractBatch('box-a', 1, 1, 6, GENESIS_HASH);
      a1.records[0] = { ...(a1.records[0] as StoredRecord), amountFen: big };
      await store.commitBatch(a1);
      await store.commitBatch(contractBatch('box-b', 1, 1, 4, GENESIS_HASH));
      const day = await store.recordsOfDay('box-a', '2026-03-02');
      // Odd seqs fall on 2 March (contractBatch); seq 5 is an alert without terminal or money.
      expect(day).toEqual([
        { kind: 'sale', terminalId: 'pos-1', amountFen: big, recordedAt: '2026-03-02T04:00:01.000Z' },
        { kind: 'sale', terminalId: 'pos-0', amountFen: 300, recordedAt: '2026-03-02T04:00:03.000Z' },
        { kind: 'alert', terminalId: null, amountFen: null, recordedAt: '2026-03-02T04:00:05.000Z' },
      ]);
      expect(await store.recordsOfDay('box-a', '2026-03-03')).toEqual([]);
    });

    it("remembers a box's request nonces within the window and forgets them after it", async () => {
      const store = await fresh();
      const windowMs = 300_000;
      const t0 = 1_770_000_000_000;
      expect(await store.rememberNonce('box-a', 'n1', t0, windowMs)).toBe(true);
      expect(await store.rememberNonce('box-a', 'n1', t0 + 1_000, windowMs)).toBe(false);
      expect(await store.rememberNonce('box-b', 'n1', t0 + 1_000, windowMs)).toBe(true);
      expect(await store.rememberNonce('box-a', 'n1', t0 + 2 * windowMs, windowMs)).toBe(false);
      // Past twice the window the entry is pruned: a timestamp that old is refused before this.
      expect(await store.rememberNonce('box-a', 'n1', t0 + 2 * windowMs + 1, windowMs)).toBe(true);
    });

    it('prunes the nonces of boxes that went quiet, by age, whoever calls next', async () => {
      const store = await fresh();
      const windowMs = 300_000;
      const t0 = 1_770_000_000_000;
      for (let i = 0; i < 20; i++) await store.rememberNonce(`quiet-${i}`, 'n1', t0, windowMs);
      expect(await store.nonceCount()).toBe(20);
      expect(await store.rememberNonce('box-a', 'n2', t0 + 2 * windowMs + 1, windowMs)).toBe(true);
      expect(await store.nonceCount()).toBe(1);
    });

    it('deletes the personal data of batches past retention and keeps their money facts', async () => {
      const store = await fresh();
      await enrol(store, 'box-a');
      const old = contractBatch('box-a', 1, 1, 4, GENESIS_HASH, { receivedAt: '2026-01-01T00:00:00.000Z' });
      const recent = contractBatch('box-a', 2, 5, 8, old.newChainHead);
      expect(await store.commitBatch(old)).toEqual({ kind: 'stored' });
      expect(await store.commitBatch(recent)).toEqual({ kind: 'stored' });
      const dayBefore = await store.recordsOfDay('box-a', '2026-03-01');
      // Batch 1 only: its key envelope and the seals of seqs 2 and 4.
      expect(await store.purgePersonalData('2026-02-01T00:00:00.000Z')).toEqual({ batches: 1, records: 2 });
      expect(await store.purgePersonalData('2026-02-01T00:00:00.000Z')).toEqual({ batches: 0, records: 0 });
      expect(await store.recordsOfDay('box-a', '2026-03-01')).toEqual(dayBefore);
      expect(await store.recordCount('box-a')).toBe(8);
      // Later, batch 2 too.
      expect(await store.purgePersonalData('2026-04-01T00:00:00.000Z')).toEqual({ batches: 1, records: 2 });
    });

    it('lists alerts newest first, up to the limit', async () => {
      const store = await fresh();
      for (let i = 1; i <= 4; i++)
        await store.addAlert({
          at: `2026-03-02T04:00:0${i}.000Z`,
          kind: `K${i}`,
          boxId: 'box-a',
          detail: `d${i}`,
        });
      expect(await store.alerts(2)).toEqual([
        { at: '2026-03-02T04:00:04.000Z', kind: 'K4', boxId: 'box-a', detail: 'd4' },
        { at: '2026-03-02T04:00:03.000Z', kind: 'K3', boxId: 'box-a', detail: 'd3' },
      ]);
      expect((await store.alerts()).map((a) => a.kind)).toEqual(['K4', 'K3', 'K2', 'K1']);
    });
  });
}
