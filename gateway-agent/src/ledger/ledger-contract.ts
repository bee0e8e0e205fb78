import { chainHash, GENESIS_HASH } from '@sceneway/cloud-sync';
import type Database from 'better-sqlite3';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isGatewayError } from '../gateway-error.ts';
import type { AppendInput, Ledger, LedgerRecord } from './ledger-api.ts';
import { saleInput } from './test-support.ts';

/**
 * TESTS ONLY. The Ledger contract (ledger-api.ts) as one suite that every implementation runs
 * (aedes' abstract persistence tests; docs/decisions.md D18). It asserts only what the interface
 * lets a caller observe: seqs, the hash chain, idempotency keys, withinCommit, stats and close.
 * File-level behaviour (boot check, quarantine, fsync, disk full) stays in ledger.test.ts.
 */
export interface LedgerUnderTest {
  ledger: Ledger;
  /** Closes this ledger and opens the same store again, as a restart of the agent would. */
  reopen(): Promise<Ledger>;
  /** Plays the bank acknowledging every record up to `throughSeq`, through the open ledger's outbox. */
  acknowledge(throughSeq: number): void;
  /** Closes whatever is still open and removes the store. */
  cleanup(): Promise<void>;
}

const failed = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
};

const withKey = (i: number, extra: Partial<AppendInput> = {}) =>
  saleInput(i, { idempotencyKey: `sale:pos-1:${i}`, ...extra });

/** Every record follows its predecessor: consecutive seqs, prevHash links, and its own hash. */
function expectChain(records: LedgerRecord[], from = { seq: 0, hash: GENESIS_HASH }): void {
  let prev = from;
  for (const record of records) {
    expect(record.seq).toBe(prev.seq + 1);
    expect(record.prevHash).toBe(prev.hash);
    const { hash, ...chained } = record;
    expect(chainHash(chained)).toBe(hash);
    prev = { seq: record.seq, hash };
  }
}

export function runLedgerContract(
  implementation: string,
  make: () => LedgerUnderTest | Promise<LedgerUnderTest>,
): void {
  const fresh = async (): Promise<LedgerUnderTest> => {
    const subject = await make();
    onTestFinished(() => subject.cleanup());
    return subject;
  };

  describe(`Ledger contract: ${implementation}`, () => {
    it('starts empty at the genesis hash with nothing to sync', async () => {
      const { ledger } = await fresh();
      expect(ledger.stats()).toEqual({
        headSeq: 0,
        headHash: GENESIS_HASH,
        unsyncedCount: 0,
        oldestUnsyncedAt: null,
        lastSyncedSeq: 0,
      });
      expect(ledger.findByIdempotencyKey('sale:pos-1:1')).toBeNull();
    });

    it('gives concurrent appends consecutive seqs on one unbroken chain, and stats follow the head', async () => {
      const { ledger } = await fresh();
      const results = await Promise.all(Array.from({ length: 300 }, (_, i) => ledger.append(saleInput(i))));
      const records = results.map((r) => r.record).sort((a, b) => a.seq - b.seq);
      expect(results.every((r) => !r.duplicate)).toBe(true);
      expectChain(records);
      const last = records.at(-1);
      expect(ledger.stats()).toMatchObject({ headSeq: 300, headHash: last?.hash, unsyncedCount: 300 });
      expect(ledger.stats().oldestUnsyncedAt).toBe(Date.parse(records[0]?.recordedAt ?? ''));
    });

    it('stores each field as given: kinds, nulls, nested payloads, and a digest only for personal data', async () => {
      const { ledger } = await fresh();
      const alert = await ledger.append({
        kind: 'alert',
        terminalId: null,
        amountFen: null,
        payload: { code: 'X', nested: { list: [1, 'two', true, null] } },
        idempotencyKey: 'alert:1',
      });
      const sale = await ledger.append(withKey(2, { amountFen: Number.MAX_SAFE_INTEGER }));
      expect(alert.record).toMatchObject({
        kind: 'alert',
        terminalId: null,
        amountFen: null,
        payload: { code: 'X', nested: { list: [1, 'two', true, null] } },
        piiDigest: null,
      });
      expect(sale.record).toMatchObject({ kind: 'sale', amountFen: Number.MAX_SAFE_INTEGER });
      expect(sale.record.piiDigest).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(sale.record)).not.toContain('62220000');
      expect(ledger.findByIdempotencyKey('alert:1')).toEqual(alert.record);
      expect(ledger.findByIdempotencyKey('sale:pos-1:2')).toEqual(sale.record);
    });

    it('answers a repeated idempotency key with the stored record and writes nothing, also within one group', async () => {
      const { ledger } = await fresh();
      let ran = 0;
      const count = () => {
        ran++;
      };
      const first = await ledger.append(withKey(1, { withinCommit: count }));
      const [again, concurrent, other] = await Promise.all([
        ledger.append(withKey(1, { amountFen: 999, withinCommit: count })),
        ledger.append(withKey(1, { withinCommit: count })),
        ledger.append(withKey(2)),
      ]);
      expect(first.duplicate).toBe(false);
      expect(again).toEqual({ duplicate: true, record: first.record });
      expect(concurrent).toEqual({ duplicate: true, record: first.record });
      expect(other.duplicate).toBe(false);
      // A duplicate does not run its scenario step: a used token or a day total is counted once.
      expect(ran).toBe(1);
      expect(ledger.stats()).toMatchObject({ headSeq: 2, unsyncedCount: 2 });
    });

    it('keeps idempotency keys and the chain across a restart', async () => {
      const subject = await fresh();
      const before = await Promise.all([1, 2, 3].map((i) => subject.ledger.append(withKey(i))));
      const reopened = await subject.reopen();
      const stored = before.map((r) => r.record).sort((a, b) => a.seq - b.seq);
      expect(reopened.stats()).toMatchObject({ headSeq: 3, headHash: stored[2]?.hash, unsyncedCount: 3 });
      expect(reopened.findByIdempotencyKey('sale:pos-1:2')).toEqual(before[1]?.record);
      expect(await reopened.append(withKey(2))).toEqual({ duplicate: true, record: before[1]?.record });
      const next = await reopened.append(withKey(4));
      expectChain([...stored, next.record]);
    });

    it('counts the outbox as head minus the synced watermark, through acknowledgements and a restart', async () => {
      const subject = await fresh();
      const appended: LedgerRecord[] = [];
      for (let i = 1; i <= 5; i++) appended.push((await subject.ledger.append(withKey(i))).record);
      const at = (seq: number) => Date.parse(appended[seq - 1]?.recordedAt ?? '');
      subject.acknowledge(2);
      const afterAck = { headSeq: 5, unsyncedCount: 3, lastSyncedSeq: 2, oldestUnsyncedAt: at(3) };
      expect(subject.ledger.stats()).toMatchObject(afterAck);
      const reopened = await subject.reopen();
      expect(reopened.stats()).toMatchObject(afterAck);
      // Acknowledged records stay in the ledger: idempotency still answers from them.
      expect(await reopened.append(withKey(1))).toEqual({ duplicate: true, record: appended[0] });
      subject.acknowledge(5);
      expect(reopened.stats()).toMatchObject({ unsyncedCount: 0, lastSyncedSeq: 5, oldestUnsyncedAt: null });
      const sixth = await reopened.append(withKey(6));
      expect(reopened.stats()).toMatchObject({
        headSeq: 6,
        unsyncedCount: 1,
        lastSyncedSeq: 5,
        oldestUnsyncedAt: Date.parse(sixth.record.recordedAt),
      });
    });

    it('refuses only the append whose withinCommit step throws, rolls that step back, and leaves no hole', async () => {
      const { ledger } = await fresh();
      ledger.db.exec('CREATE TABLE contract_tokens (token TEXT PRIMARY KEY)');
      const use =
        (token: string, fail = false) =>
        (db: Database.Database) => {
          db.prepare('INSERT INTO contract_tokens VALUES (?)').run(token);
          if (fail) throw new Error('declined after the insert');
        };
      const outcomes = await Promise.allSettled([
        ledger.append(withKey(1, { withinCommit: use('a') })),
        ledger.append(withKey(2, { withinCommit: use('b', true) })),
        ledger.append(withKey(3, { withinCommit: use('c') })),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({
        message: 'declined after the insert',
      });
      const tokens = ledger.db.prepare('SELECT token FROM contract_tokens ORDER BY token').pluck().all();
      expect(tokens).toEqual(['a', 'c']);
      expect(ledger.findByIdempotencyKey('sale:pos-1:2')).toBeNull();
      const committed = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.record] : []));
      expectChain(committed);
      // The refused key is free: its retransmission is decided afresh.
      expect((await ledger.append(withKey(2))).duplicate).toBe(false);
    });

    it('refuses floats, unknown kinds, unsafe integers and lone surrogates before they reach the chain', async () => {
      const { ledger } = await fresh();
      const invalid: AppendInput[] = [
        saleInput(1, { amountFen: 12.5 }),
        saleInput(2, { amountFen: Number.MAX_SAFE_INTEGER + 1 }),
        saleInput(3, { payload: { rate: 0.3 } }),
        saleInput(4, { payload: { deep: [{ x: Number.NaN }] } }),
        saleInput(5, { kind: 'refund' as AppendInput['kind'] }),
        // Lone surrogates have no JCS form (RFC 8785 §3.2.2.2): refused before they are signed.
        saleInput(6, { payload: { receiptNo: 6, note: 'x\ud800y' } }),
        saleInput(7, { payload: { receiptNo: 7, items: [{ ['\udc00']: 1 }] } }),
        saleInput(8, { pii: { cardNumber: '6222\ud83d' } }),
        saleInput(9, { terminalId: 'pos-\udfff' }),
      ];
      for (const input of invalid) {
        const error = await failed(
          ledger.append({ ...input, idempotencyKey: `bad:${input.payload.receiptNo}` }),
        );
        expect(isGatewayError(error, 'LEDGER_RECORD_INVALID')).toBe(true);
      }
      expect(ledger.stats()).toMatchObject({ headSeq: 0, unsyncedCount: 0 });
      expect(ledger.findByIdempotencyKey('bad:1')).toBeNull();
    });

    it('commits the appends accepted before close, then refuses new ones with LEDGER_CLOSED', async () => {
      const subject = await fresh();
      const { ledger } = subject;
      const accepted = Array.from({ length: 20 }, (_, i) => ledger.append(withKey(i + 1)));
      await ledger.close();
      const results = await Promise.all(accepted);
      expectChain(results.map((r) => r.record).sort((a, b) => a.seq - b.seq));
      const error = await failed(ledger.append(withKey(99)));
      expect(isGatewayError(error, 'LEDGER_CLOSED')).toBe(true);
      await ledger.close(); // a second close is harmless
      const reopened = await subject.reopen();
      expect(reopened.stats().headSeq).toBe(20);
      expect(reopened.findByIdempotencyKey('sale:pos-1:99')).toBeNull();
    });
  });
}
