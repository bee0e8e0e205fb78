/**
 * The one masking function for personal identifiers in logs, APIs and dashboards (DESIGN invariant 5;
 * bank standard 004 §5.1.4 a: de-identify before data leaves the transaction path). Card UIDs, QR
 * token ids and account ids all show at most their last 4 characters — what the POS protocol doc
 * promises and enough to match a complaint at the counter — and a value of 8 characters or fewer
 * shows none, since 4 of 8 hex digits halve the search for a 4-byte UID. A QR token itself shows only
 * its length: any slice of a live token helps a replay.
 *
 * `Masked` is a branded string: only these functions make one, so a log helper or a field typed
 * `Masked` (Holder.masked, the drivers' credential log fields) cannot be handed a raw UID by mistake.
 */
declare const maskedBrand: unique symbol;
export type Masked = string & { readonly [maskedBrand]: 'masked' };

const SHOWN = 4;
/** Values this short keep nothing: showing 4 would reveal half of the value or more. */
const SHORTEST_WITH_TAIL = 9;

export function maskTail(value: string): Masked {
  if (value.length < SHORTEST_WITH_TAIL) return '*'.repeat(value.length) as Masked;
  return ('*'.repeat(value.length - SHOWN) + value.slice(-SHOWN)) as Masked;
}

/** A credential as drivers and scenarios carry it (structurally the device-drivers PaymentCredential). */
export type CredentialToMask = { kind: 'card'; uidHex: string } | { kind: 'qr'; token: string };

/** `qr:*********0001`: a labelled id (a QR token id, an account) showing at most its last 4. */
export function maskLabelled(label: 'card' | 'qr' | 'account', value: string): Masked {
  return `${label}:${maskTail(value)}` as Masked;
}

/** `card:******C3D4` for a card; `qr:<N chars>` for a QR token, never any of its characters. */
export function maskCredential(credential: CredentialToMask): Masked {
  if (credential.kind === 'qr') return `qr:<${credential.token.length} chars>` as Masked;
  return maskLabelled('card', credential.uidHex);
}

/** A fixed text that carries no personal data (`card:unreadable`), typed so it can stand in a Masked field. */
export function maskedConstant(text: 'card:unreadable' | 'qr:invalid' | 'from bound reader'): Masked {
  return text as Masked;
}

/**
 * Log fields as the drivers' logger takes them: the fields that name a person hold a Masked value,
 * and the fields that would hold a raw credential or a key may not appear at all. So
 * `logger.info({ credential: request.credential })` does not compile; `maskCredential(...)` does.
 */
export type SafeLogFields = Record<string, unknown> & {
  credential?: Masked;
  holder?: Masked;
  card?: Masked;
  account?: Masked;
  uidHex?: never;
  token?: never;
  cardNumber?: never;
  privateKeyHex?: never;
  dataKey?: never;
  passphrase?: never;
};
