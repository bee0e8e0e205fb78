import type { PaymentCredential } from '../driver-api.ts';

/**
 * Log form of a credential (DESIGN invariant 5; Q/RZYH TG 0003-2024 §5.1.4 a: de-identify before it
 * leaves the transaction path). A card UID keeps its last 4 hex digits, enough to match a complaint at
 * the counter; a QR token keeps only its length, since any slice of a live token helps a replay.
 */
export function maskCredential(credential: PaymentCredential): string {
  if (credential.kind === 'qr') return `qr:<${credential.token.length} chars>`;
  const uid = credential.uidHex;
  return `card:${'*'.repeat(Math.max(0, uid.length - 4))}${uid.slice(-4)}`;
}
