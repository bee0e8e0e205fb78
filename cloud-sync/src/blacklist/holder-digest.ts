import { sm3Hex } from '../crypto/sm3.ts';

/**
 * Who is paying, as the box may store it: an SM3 digest, never the clear card UID or account
 * (DESIGN invariant 5; 004 §5.1.4 a: card data is de-identified before it is kept). The bank computes
 * the same digests for its blacklist (docs/protocols/canteen-blacklist.md), so the box matches a card
 * without ever holding the list in clear. The namespace prefix keeps a card UID and a QR account
 * that happen to be the same string apart.
 */
export function cardHolderDigest(uidHex: string): string {
  return sm3Hex(`card:${uidHex.toUpperCase()}`);
}

export function accountHolderDigest(account: string): string {
  return sm3Hex(`account:${account}`);
}
