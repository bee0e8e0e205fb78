import { canonicalBytes, type Sm2Options, sm2Sign, sm2Verify } from '@sceneway/cloud-sync';
import { z } from 'zod';

/**
 * Canteen QR payment tokens (docs/protocols/canteen-qr-token.md). The campus app shows a token the
 * bank issued; the box checks it offline against the pinned bank key:
 *
 *   SWQ1.<base64url(JCS(claims))>.<base64url(DER SM2 signature)>
 *   claims = { v: 2, aud, tokenId, account, maxAmountFen, expiresAt }  (expiresAt: Unix seconds UTC)
 *   aud = "site:<site id>" | "box:<box id>"                            (where it may be spent)
 *   signature = SM2-sign(bank key, ASCII bytes of "SWQ1.<claims part>")  (SM3 with Z_A, GM/T 0003)
 *
 * Signing the prefixed ASCII (as JWS does) gives domain separation for free: the bank key also signs
 * acks and blacklists, whose signed bytes are JSON objects starting with '{', never "SWQ1.".
 * The claims must be exactly their JCS form, so one token has one byte string (no re-encodings that
 * verify too). Single use is the rules' job (tokenId in canteen_used_qr), and that set is one box's:
 * without an audience an offline token could be spent once at every box of the bank (issue #11), so
 * the token names the site or box it is for and any other box refuses it. 004 §5.3.1 h asks that a
 * request be unique, and §5.3.2 b 2 that one-time codes be single use and short lived.
 */
export const QR_TOKEN_PREFIX = 'SWQ1';
/** Same ceiling as the POS wire field (MAX_QR_TOKEN_BYTES), so any token we accept fits a frame. */
export const MAX_QR_TOKEN_LENGTH = 512;

const B64URL = /^[A-Za-z0-9_-]+$/;

/** Same rule as the config's site and box ids, so every configured id can be named. */
const AUDIENCE = /^(?:site|box):[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const qrClaimsSchema = z.strictObject({
  v: z.literal(2),
  /** Where the token may be spent: `site:<site.id>` (any box of the site) or `box:<box.id>`. */
  aud: z.string().regex(AUDIENCE, 'expected "site:<site id>" or "box:<box id>"'),
  /** Random, unique per issued token; the single-use key. */
  tokenId: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'expected 16-64 base64url characters'),
  /** The bank's opaque reference of the paying account (not a card number); personal data. */
  account: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'expected 1-64 printable ASCII characters'),
  maxAmountFen: z.number().int().min(1).refine(Number.isSafeInteger),
  expiresAt: z.number().int().min(0).refine(Number.isSafeInteger),
});
export type QrClaims = z.infer<typeof qrClaimsSchema>;

/** What this box is: a token is accepted when its `aud` names either. */
export interface QrAudience {
  siteId: string;
  boxId: string;
}

/**
 * A token the box cannot take is declined QR_BAD_SIGNATURE whatever the cause (the wire code a
 * terminal already shows as "invalid code, show a new one"); `flag` tells the log and an offline
 * upload's record which: a forgery or a token for somewhere else.
 */
export type QrVerdict =
  | { ok: true; claims: QrClaims }
  | { ok: false; reason: 'QR_BAD_SIGNATURE'; flag: 'qr-bad-signature' | 'qr-wrong-audience'; detail: string }
  | { ok: false; reason: 'QR_EXPIRED'; detail: string; claims: QrClaims };

/** Bank side (and the simulator/tests): issue a token. */
export function issueQrToken(claims: QrClaims, bankPrivateKeyHex: string, opts: Sm2Options = {}): string {
  const body = `${QR_TOKEN_PREFIX}.${canonicalBytes(qrClaimsSchema.parse(claims)).toString('base64url')}`;
  const token = `${body}.${sm2Sign(Buffer.from(body, 'ascii'), bankPrivateKeyHex, opts).toString('base64url')}`;
  if (token.length > MAX_QR_TOKEN_LENGTH) {
    throw new RangeError(`token is ${token.length} characters, over ${MAX_QR_TOKEN_LENGTH}: shorten the ids`);
  }
  return token;
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
  audience: QrAudience,
  opts: Sm2Options = {},
): QrVerdict {
  const bad = (detail: string): QrVerdict => ({
    ok: false,
    reason: 'QR_BAD_SIGNATURE',
    flag: 'qr-bad-signature',
    detail,
  });
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
    const json: unknown = JSON.parse(claimsBytes.toString('utf8'));
    if ((json as { v?: unknown } | null)?.v === 1) {
      return bad('claims v1 name no audience, so they could be spent at every box: the bank must issue v2');
    }
    const parsed = qrClaimsSchema.safeParse(json);
    if (!parsed.success) return bad(`claims invalid: ${parsed.error.issues[0]?.message ?? 'schema'}`);
    claims = parsed.data;
  } catch {
    return bad('claims are not JSON');
  }
  if (!canonicalBytes(claims).equals(claimsBytes)) return bad('claims are not in JCS form');
  // After the signature: the aud is the bank's word only once the signature holds. The ids are
  // configuration, not personal data, so the log line may name both sides.
  if (claims.aud !== `site:${audience.siteId}` && claims.aud !== `box:${audience.boxId}`) {
    return {
      ok: false,
      reason: 'QR_BAD_SIGNATURE',
      flag: 'qr-wrong-audience',
      detail: `token is for ${claims.aud}; this is site:${audience.siteId}, box:${audience.boxId}`,
    };
  }
  if (claims.expiresAt * 1000 <= atMs) {
    return { ok: false, reason: 'QR_EXPIRED', detail: `expired at ${claims.expiresAt}`, claims };
  }
  return { ok: true, claims };
}
