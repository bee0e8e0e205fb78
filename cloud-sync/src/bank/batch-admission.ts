import type { CommitOutcome } from './store.ts';

/**
 * The exactly-once decision of the bank (DESIGN invariants 2 and 3; 004 §5.2), written once: both
 * stores read the facts inside their transaction (the box row locked) and call this, then store
 * the batch only on 'store'. Keeping it pure keeps the two databases from drifting apart and lets
 * a property test cover every combination (batch-admission.test.ts).
 */
export interface AdmissionFacts {
  /** The box's stored chain head, or null when the box is not enrolled. */
  head: { seq: number; hash: string } | null;
  /** Digest of the batch already stored under the same (box, batchSeq), or null. */
  storedDigest: string | null;
  batch: { digest: string; firstSeq: number; prevChainHead: string };
}

/** 'store' carries the head the batch continues, for the store's conditional head update. */
export type Admission =
  | { kind: 'store'; head: { seq: number; hash: string } }
  | Exclude<CommitOutcome, { kind: 'stored' }>;

export function decideBatchAdmission({ head, storedDigest, batch }: AdmissionFacts): Admission {
  if (head === null) return { kind: 'not-enrolled' };
  // The batch number was seen before: the same bytes are a resend after a lost ack (answered again,
  // stored once); other bytes under that number are a conflict, never a second store.
  if (storedDigest !== null)
    return storedDigest === batch.digest ? { kind: 'duplicate' } : { kind: 'conflict', storedDigest };
  // A batch that does not start from the stored head was sent out of order (or forged); one that
  // starts from the head but skips sequence numbers means the box lost records.
  if (batch.prevChainHead !== head.hash)
    return { kind: 'chain-broken', headSeq: head.seq, headHash: head.hash };
  if (batch.firstSeq !== head.seq + 1) return { kind: 'sequence-gap', headSeq: head.seq };
  return { kind: 'store', head };
}
