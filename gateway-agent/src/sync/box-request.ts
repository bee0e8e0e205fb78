import { requestHeaders } from '@sceneway/cloud-sync';

/** What a request to the bank is signed as: the box, its SM2 key and distinguishing id. */
export interface BoxIdentity {
  boxId: string;
  boxPrivateKeyHex: string;
  userId?: string | undefined;
}

/**
 * The signed request headers (docs/bank-ingest.md: box, nonce, timestamp, SM2 signature over `digest`)
 * of every request the box makes to the bank: batches, reconciliation reports, blacklist reads.
 */
export function signedBoxHeaders(
  identity: BoxIdentity,
  digest: string,
  now: Date,
  nonce?: string,
): Record<string, string> {
  return requestHeaders(
    { boxId: identity.boxId, digest, now, ...(nonce ? { nonce } : {}) },
    identity.boxPrivateKeyHex,
    identity.userId ? { userId: identity.userId } : {},
  );
}
