import { canonicalBytes, type Sm2Options, sm2Sign, sm2Verify } from '@sceneway/cloud-sync';
import { z } from 'zod';

/**
 * Canteen QR payment tokens (docs/protocols/canteen-qr-token.md). The campus app shows a token the
 * bank issued; the box checks it offline against the pinned bank key:
 *
 *   SWQ1.<base64url(JCS(claims))>.<base64url(DER SM2 signature)>
 *   claims = { v: 1, tokenId, account, maxAmountFen, expiresAt }      (expiresAt: Unix seconds UTC)
 *   signature = SM2-sign(bank key, ASCII bytes of "SWQ1.<claims part>")  (SM3 with Z_A, GM/T 0003)
 *
 * Signing the prefixed ASCII (as JWS does) gives domain separation for free: the bank key also signs
 * acks and blacklists, whose signed bytes are JSON objects starting with '{', never "SWQ1.".
 * The claims must be exactly their JCS form, so one token has one byte string (no re-encodings that
 * verify too). Single use is the rules' job (tokenId in canteen_used_qr); 004 §5.3.1 h asks that a
 * request be unique, and §5.3.2 b 2 that one-time codes be single use and short lived.
 */
export const QR_TOKEN_PREFIX = 'SWQ1';
/** Same ceiling as the POS wire field (MAX_QR_TOKEN_BYTES), so any token we accept fits a frame. */
export const MAX_QR_TOKEN_LENGTH = 512;

const B64URL = /^[A-Za-z0-9_-]+$/;

export const qrClaimsSchema = z.strictObject({
  v: z.literal(1),
  /** Random, unique per issued token; the single-use key. */
  tokenId: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'expected 16-64 base64url characters'),
  /** The bank's opaque reference of the paying account (not a card number); personal data. */
  account: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'expected 1-64 printable ASCII characters'),
  maxAmountFen: z.number().int().min(1).refine(Number.isSafeInteger),
  expiresAt: z.number().int().min(0).refine(Number.isSafeInteger),
});
export type QrClaims = z.infer<typeof qrClaimsSchema>;

export type QrVerdict =
  | { ok: true; claims: QrClaims }
  | { ok: false; reason: 'QR_BAD_SIGNATURE'; detail: string }
  | { ok: false; reason: 'QR_EXPIRED'; detail: string; claims: QrClaims };

/** Bank side (and the simulator/tests): issue a token. */
export function issueQrToken(claims: QrClaims, bankPrivateKeyHex: string, opts: Sm2Options = {}): string {
  const body = `${QR_TOKEN_PREFIX}.${canonicalBytes(qrClaimsSchema.parse(claims)).toString('base64url')}`;
  return `${body}.${sm2Sign(Buffer.from(body, 'ascii'), bankPrivateKeyHex, opts).toString('base64url')}`;
}

function decodeB64url(part: string): Buffer | null {
  if (!B64URL.test(part)) return null;
  const bytes = Buffer.from(part, 'base64url');
  return bytes.toString('base64url') === part ? bytes : null;
}

/**
 * Box side. Signature before anything else is believed; expiry is judged at `atMs` (the box clock for
 * a live sale, the terminal's sale time for an offline upload).
 */
export function verifyQrToken(
  token: string,
  bankPublicKeyHex: string,
  atMs: number,
  opts: Sm2Options = {},
): QrVerdict {
  const bad = (detail: string): QrVerdict => ({ ok: false, reason: 'QR_BAD_SIGNATURE', detail });
  if (token.length > MAX_QR_TOKEN_LENGTH) return bad('token longer than 512 characters');
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== QR_TOKEN_PREFIX) return bad('not an SWQ1 token');
  const claimsBytes = decodeB64url(parts[1] ?? '');
  const signature = decodeB64url(parts[2] ?? '');
  if (!claimsBytes || !signature) return bad('token parts are not canonical base64url');
  const signed = Buffer.from(`${parts[0]}.${parts[1]}`, 'ascii');
  if (!sm2Verify(signed, signature, bankPublicKeyHex, opts)) {
    return bad('signature does not verify with the pinned bank key');
  }
  let claims: QrClaims;
  try {
    const parsed = qrClaimsSchema.safeParse(JSON.parse(claimsBytes.toString('utf8')));
    if (!parsed.success) return bad(`claims invalid: ${parsed.error.issues[0]?.message ?? 'schema'}`);
    claims = parsed.data;
  } catch {
    return bad('claims are not JSON');
  }
  if (!canonicalBytes(claims).equals(claimsBytes)) return bad('claims are not in JCS form');
  if (claims.expiresAt * 1000 <= atMs) {
    return { ok: false, reason: 'QR_EXPIRED', detail: `expired at ${claims.expiresAt}`, claims };
  }
  return { ok: true, claims };
}
