import { createHmac } from 'node:crypto';
import { sm3Hex } from '../crypto/sm3.ts';
import { SyncError } from '../sync-error.ts';

/**
 * Who is paying, as the box may store it: a keyed digest, never the clear card UID or account
 * (DESIGN invariant 5; 004 §5.1.4 a: card data is de-identified before it is kept).
 *
 *   holderDigest = HMAC-SM3(holderKey, "card:" + UID)    (UID upper-case hex)
 *                = HMAC-SM3(holderKey, "account:" + QR account)
 *
 * A card UID has 4-10 bytes: an unkeyed hash of it is reversed by enumeration (issue #11: every demo
 * UID in 1.6 s, the whole 4-byte space in ~3 core-hours). The 32-byte holder key is the bank's, issued
 * to each box at enrolment (docs/protocols/canteen-blacklist.md §Holder key, docs/decisions.md D27),
 * so the bank computes the same digests for that box's blacklist while a stolen ledger file alone
 * gives nothing to enumerate against. The namespace prefix keeps a card UID and a QR account that
 * happen to be the same string apart.
 */
export const HOLDER_KEY_BYTES = 32;

/** How a digest was made: 'hmac-sm3' (keyed, current) or 'sm3' (unkeyed, boxes before D27). */
export type HolderDigestScheme = 'hmac-sm3' | 'sm3';

export interface HolderDigests {
  readonly scheme: HolderDigestScheme;
  /**
   * Names the scheme and key without revealing the key: "sm3", or "hmac-sm3:" + 16 hex digits of
   * HMAC-SM3(key, "sceneway.holder-key-id"). The box stores it beside digests it keeps, so digests of
   * another scheme or key are recognised as such (canteen blacklist.ts).
   */
  readonly id: string;
  card(uidHex: string): string;
  account(account: string): string;
}

export const cardHolderString = (uidHex: string): string => `card:${uidHex.toUpperCase()}`;
export const accountHolderString = (account: string): string => `account:${account}`;

/** The digest of a namespaced holder string (cardHolderString / accountHolderString) under a key. */
export function keyedHolderDigest(holderKey: Uint8Array, holder: string): string {
  return createHmac('sm3', holderKey).update(holder, 'utf8').digest('hex');
}

export function assertHolderKey(holderKey: Uint8Array): void {
  if (holderKey.length !== HOLDER_KEY_BYTES)
    throw new SyncError(
      'SYNC_HOLDER_KEY',
      `a holder key has ${HOLDER_KEY_BYTES} bytes, not ${holderKey.length}`,
    );
}

/** The keyed digests of one box (its holder key from the bank's enrolment answer). */
export function keyedHolderDigests(holderKey: Uint8Array): HolderDigests {
  assertHolderKey(holderKey);
  const key = Buffer.from(holderKey);
  return {
    scheme: 'hmac-sm3',
    id: `hmac-sm3:${keyedHolderDigest(key, 'sceneway.holder-key-id').slice(0, 16)}`,
    card: (uid) => keyedHolderDigest(key, cardHolderString(uid)),
    account: (account) => keyedHolderDigest(key, accountHolderString(account)),
  };
}

/**
 * The unkeyed digests boxes used before D27. Kept only so that an upgraded box that has not yet
 * imported its enrolment answer goes on matching the blacklist it holds (and says so with an alert),
 * and for the tests that show why it was replaced. Nothing new should use it.
 */
export const legacyHolderDigests: HolderDigests = {
  scheme: 'sm3',
  id: 'sm3',
  card: (uid) => sm3Hex(cardHolderString(uid)),
  account: (account) => sm3Hex(accountHolderString(account)),
};

/**
 * The bank's holder key for one box: HMAC-SM3(master, "sceneway.holder-key.v1:" + boxId), where the
 * master secret is HMAC-SM3(bank SM2 private key, "sceneway.holder-digest-master.v1"). Derived, not
 * stored: the bank needs no new secret to back up, every ingest replica (which holds the bank key
 * already) computes the same key, and a re-enrolled box (new SM2 key, same box id) keeps its key, so
 * its day totals and blacklist stay valid. The labels keep this use of the bank key apart from SM2.
 */
export function holderKeyForBox(bankPrivateKeyHex: string, boxId: string): Buffer {
  const master = createHmac('sm3', Buffer.from(bankPrivateKeyHex, 'hex'))
    .update('sceneway.holder-digest-master.v1', 'utf8')
    .digest();
  return createHmac('sm3', master).update(`sceneway.holder-key.v1:${boxId}`, 'utf8').digest();
}
