import type { SaleRequest, VoidRequest } from '@sceneway/device-drivers';
import type { HolderDigests } from './holder-digest.ts';

/**
 * What a request asked for, as a keyed digest: with (terminal, receipt) it is a sale's identity
 * (docs/decisions.md D29). The same receipt asked again with the same content is a retransmission and
 * gets the first decision; with other content it is a till whose receipt counter went back, and gets
 * DUPLICATE_RECEIPT. Prices repeat in a canteen, so the amount alone cannot tell the two apart.
 *
 * Content: the credential (card UID, the whole QR token, or "bound" for a till that pays with the card
 * of its bound reader: that card is taken only for a new sale, so it cannot be part of the question),
 * the amount, and for a void the receipt it reverses. Not content: the terminal's clock and the offline
 * flag, which differ between a live attempt and the upload of the same sale.
 *
 * The digest is HMAC-SM3 under the box's holder key (the same keyed function as holder digests,
 * holder-digest.ts, in its own "sale-content" namespace), so the stored digest names no card: without
 * the key a 4-byte UID cannot be enumerated against it (D27). It is stored as `<digests.id>|<hex>`: a
 * digest made under another key (a box that imported its holder key since) is recognised as such and
 * the request falls back to the rule of rows that have no digest (canteen-store.ts).
 */
export type ContentDigest = string;

const LABEL = 'sceneway.sale-content.v1';

function keyed(digests: HolderDigests, fields: readonly (string | number)[]): ContentDigest {
  // JSON keeps the fields apart whatever characters a QR token holds.
  return `${digests.id}|${digests.account(`${LABEL}:${JSON.stringify(fields)}`)}`;
}

export function saleContent(digests: HolderDigests, sale: SaleRequest): ContentDigest {
  const c = sale.credential;
  const credential = !c ? ['bound'] : c.kind === 'card' ? ['card', c.uidHex.toUpperCase()] : ['qr', c.token];
  return keyed(digests, ['sale', ...credential, sale.amountFen]);
}

export function voidContent(digests: HolderDigests, v: VoidRequest): ContentDigest {
  return keyed(digests, ['void', v.originalReceiptNo, v.amountFen]);
}

/** Whether a stored digest was made under the key in use now (else it cannot be compared). */
export function comparable(digests: HolderDigests, stored: ContentDigest): boolean {
  return stored.startsWith(`${digests.id}|`);
}
