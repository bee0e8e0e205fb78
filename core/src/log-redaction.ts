/**
 * The field names that never reach a log line in clear, for every Sceneway logger (the agent's and
 * the bank's): the names the code really uses, not guesses (issue #11: the list said `privateKey`
 * while the code says `privateKeyHex`). Redaction is the second line of defence — code logs Masked
 * values (mask.ts) — so a stray object carrying a key or a UID is censored rather than written
 * (DESIGN invariants 5 and 7; 004 §5.1.1.1.5 protected logs, §5.1.4 a de-identified card data).
 */
export const REDACTED_LOG_FIELDS = [
  // keys and secrets (keys/box-keys.ts BoxSecrets, the bank's key, the admin token)
  'privateKey',
  'privateKeyHex',
  'bankPrivateKeyHex',
  'dataKey',
  'dataKeyHex',
  'kek',
  'passphrase',
  'password',
  'passwordHash',
  'secret',
  'adminToken',
  'authorization',
  // personal data (PaymentCredential, QR claims, PersonalData, Holder)
  'uidHex',
  'cardUid',
  'cardNumber',
  'credential',
  'token',
  'qrToken',
  'account',
  'idNumber',
  'phone',
  'plate',
  'plateNumber',
  'pii',
] as const;

/** pino `redact.paths`: each field at the top level and up to two objects deep. */
export function redactedLogPaths(): string[] {
  return REDACTED_LOG_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]);
}

/** What a masked value looks like (mask.ts): kept as written, since it is the useful, safe form. */
const ALREADY_MASKED =
  /^(?:(?:card|qr|account):)?(?:\*+[0-9A-Za-z]{0,4}|<\d+ chars>|unreadable|invalid)$|^from bound reader$/;

/**
 * pino `redact.censor`: a value in a redacted field is replaced unless it is already masked, so
 * `credential: maskCredential(c)` stays readable while `credential: c` (the raw object) is not.
 */
export function censorUnlessMasked(value: unknown): unknown {
  if (typeof value === 'string' && ALREADY_MASKED.test(value)) return value;
  return '[redacted]';
}
