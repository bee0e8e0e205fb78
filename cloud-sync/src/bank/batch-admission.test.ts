import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Admission, type AdmissionFacts, decideBatchAdmission } from './batch-admission.ts';

// Small domains, so equal hashes, equal digests and adjacent seqs happen often.
const hashArb = fc.constantFrom('h0', 'h1', 'h2');
const digestArb = fc.constantFrom('d0', 'd1', 'd2');
const headArb = fc.option(fc.record({ seq: fc.integer({ min: 0, max: 4 }), hash: hashArb }), { nil: null });
const factsArb: fc.Arbitrary<AdmissionFacts> = fc.record({
  head: headArb,
  storedDigest: fc.option(digestArb, { nil: null }),
  batch: fc.record({ digest: digestArb, firstSeq: fc.integer({ min: 0, max: 6 }), prevChainHead: hashArb }),
});

describe('decideBatchAdmission', () => {
  it('stores exactly when the box is enrolled, the number is new and the batch continues the head', () => {
    fc.assert(
      fc.property(factsArb, (facts) => {
        const continues =
          facts.head !== null &&
          facts.storedDigest === null &&
          facts.batch.prevChainHead === facts.head.hash &&
          facts.batch.firstSeq === facts.head.seq + 1;
        const decision = decideBatchAdmission(facts);
        expect(decision.kind === 'store').toBe(continues);
        if (decision.kind === 'store') expect(decision.head).toEqual(facts.head);
      }),
    );
  });

  it('answers a batch number seen before from its stored digest alone, whatever the head is now', () => {
    fc.assert(
      fc.property(factsArb, headArb, (facts, otherHead) => {
        fc.pre(facts.head !== null && otherHead !== null && facts.storedDigest !== null);
        const expected: Admission =
          facts.storedDigest === facts.batch.digest
            ? { kind: 'duplicate' }
            : { kind: 'conflict', storedDigest: facts.storedDigest as string };
        expect(decideBatchAdmission(facts)).toEqual(expected);
        expect(decideBatchAdmission({ ...facts, head: otherHead })).toEqual(expected);
      }),
    );
  });

  it('refuses a new batch number off the head as chain-broken before looking at its seqs, else as a gap', () => {
    fc.assert(
      fc.property(factsArb, (facts) => {
        fc.pre(facts.head !== null && facts.storedDigest === null);
        const head = facts.head as { seq: number; hash: string };
        const decision = decideBatchAdmission(facts);
        if (facts.batch.prevChainHead !== head.hash)
          expect(decision).toEqual({ kind: 'chain-broken', headSeq: head.seq, headHash: head.hash });
        else if (facts.batch.firstSeq !== head.seq + 1)
          expect(decision).toEqual({ kind: 'sequence-gap', headSeq: head.seq });
        else expect(decision).toEqual({ kind: 'store', head });
      }),
    );
  });

  it('answers not-enrolled for an unknown box, whatever else is true', () => {
    fc.assert(
      fc.property(factsArb, (facts) => {
        expect(decideBatchAdmission({ ...facts, head: null })).toEqual({ kind: 'not-enrolled' });
      }),
    );
  });

  // The invariant the function exists for (DESIGN invariant 2): whatever a box and the network do
  // (resends after lost acks, reordering, batches sent ahead of their predecessor), each batch is stored once, nothing out of
  // chain is stored, and delivering the batches in order at the end leaves the bank at the box's head.
  it('stores every batch of a chain exactly once under any order of deliveries and resends', () => {
    const deliveriesArb = fc.integer({ min: 1, max: 6 }).chain((batches) =>
      fc.record({
        batches: fc.constant(batches),
        deliveries: fc.array(fc.integer({ min: 0, max: batches - 1 }), { maxLength: 30 }),
      }),
    );
    fc.assert(
      fc.property(deliveriesArb, ({ batches, deliveries }) => {
        // Batch i carries seqs 2i+1..2i+2 and continues the head of batch i-1.
        const chain = Array.from({ length: batches }, (_, i) => ({
          batchSeq: i + 1,
          digest: `d${i + 1}`,
          firstSeq: 2 * i + 1,
          lastSeq: 2 * i + 2,
          prevChainHead: i === 0 ? 'genesis' : `h${i}`,
          newChainHead: `h${i + 1}`,
        }));
        const bank = { head: { seq: 0, hash: 'genesis' }, stored: new Map<number, string>(), stores: 0 };
        const deliver = (batch: (typeof chain)[number]) => {
          const decision = decideBatchAdmission({
            head: bank.head,
            storedDigest: bank.stored.get(batch.batchSeq) ?? null,
            batch,
          });
          if (decision.kind !== 'store') return decision.kind;
          expect(decision.head).toEqual(bank.head);
          bank.stored.set(batch.batchSeq, batch.digest);
          bank.head = { seq: batch.lastSeq, hash: batch.newChainHead };
          bank.stores++;
          return 'stored';
        };
        for (const index of deliveries) {
          const batch = chain[index] as (typeof chain)[number];
          const kind = deliver(batch);
          // Only the batch right after the head can be stored; anything else is refused or answered.
          if (kind === 'stored') expect(bank.stored.size).toBe(index + 1);
        }
        // The box resends everything from the start, in order, as its uploader does after a restart.
        for (const batch of chain) expect(['stored', 'duplicate']).toContain(deliver(batch));
        expect(bank.stores).toBe(batches);
        expect([...bank.stored.values()]).toEqual(chain.map((b) => b.digest));
        expect(bank.head).toEqual({ seq: 2 * batches, hash: `h${batches}` });
      }),
    );
  });
});
