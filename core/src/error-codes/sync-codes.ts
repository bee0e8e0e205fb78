/**
 * Codes of the sync layer (SyncError) and of the reference bank's refusals: the box's crypto, batch
 * and request checks (CRYPTO_, BATCH_, SYNC_) and what the bank answers (BANK_). A code is a contract
 * with support, the bank and the fleet: never rename or reuse one.
 * docs/error-codes.md is generated from this list (`npm run docs:errors`).
 */
export const SYNC_ERROR_CODES = [
  { code: 'BANK_ADMIN_TOKEN', description: 'Refusal: enrolment needs the bank admin token.' },
  {
    code: 'BANK_ADMIN_TOKEN_FILE',
    description:
      'The bank admin token file is missing, too short, or readable by group or others (chmod 600).',
  },
  {
    code: 'BANK_BATCH_CONFLICT',
    description: 'Refusal: a batch was resent with the same number and other content.',
  },
  {
    code: 'BANK_BATCH_DIGEST',
    description: 'Refusal: SM3 of the raw batch bytes is not the digest the box signed (altered in transit).',
  },
  {
    code: 'BANK_BATCH_INCONSISTENT',
    description: 'Refusal: the batch contradicts itself (counts, totals, sequence, chain).',
  },
  { code: 'BANK_BATCH_MALFORMED', description: 'Refusal: the batch is not a valid batch v1 document.' },
  {
    code: 'BANK_BATCH_PII',
    description: 'Refusal: the personal data in the batch does not decrypt or match its digest.',
  },
  {
    code: 'BANK_BLACKLIST_EXISTS',
    description: 'A blacklist version is already published; sign the change as the next version.',
  },
  {
    code: 'BANK_BLACKLIST_FILE',
    description: 'A file in the blacklist folder is not a blacklist source signed with this bank key.',
  },
  {
    code: 'BANK_BLACKLIST_OFF',
    description: 'Refusal: this bank publishes no blacklist (no --blacklist-dir).',
  },
  { code: 'BANK_BODY_TOO_LARGE', description: 'Refusal: the request body exceeds the bank limit.' },
  {
    code: 'BANK_BOX_MISMATCH',
    description: 'Refusal: the batch belongs to another box than the request header names.',
  },
  {
    code: 'BANK_BOX_ALREADY_ENROLLED',
    description:
      'Refusal: the box is enrolled with another key; rotate it with a rotation signed by the enrolled key.',
  },
  {
    code: 'BANK_BOX_KEY_ROTATED',
    description: 'Audit: a box key was replaced by a rotation signed by the old and the new key.',
  },
  { code: 'BANK_BOX_NOT_ENROLLED', description: 'Refusal: the box is not enrolled at this bank.' },
  {
    code: 'BANK_CHAIN_BROKEN',
    description: 'Refusal: the batch does not continue the chain the bank holds.',
  },
  {
    code: 'BANK_ENROL_MALFORMED',
    description: 'Refusal: the enrolment request is not a valid enrolment document.',
  },
  {
    code: 'BANK_INTERNAL',
    description: 'Refusal: the bank failed internally; the box retries with backoff.',
  },
  {
    code: 'BANK_KEY_FILE',
    description: 'The bank private key file cannot be read; run `sceneway-bank keys init`.',
  },
  {
    code: 'BANK_KEY_ROTATION_INVALID',
    description: 'Refusal: a key rotation is malformed or not signed by both the enrolled and the new key.',
  },
  { code: 'BANK_NONCE_REPLAYED', description: 'Refusal: the request nonce was seen before (a replay).' },
  { code: 'BANK_NOT_FOUND', description: 'Refusal: no bank route at that path.' },
  {
    code: 'BANK_RATE_LIMITED',
    description: 'Refusal: too many requests; the box retries after Retry-After.',
  },
  { code: 'BANK_RECON_DATE', description: 'The reconciliation report is for another day than asked.' },
  {
    code: 'BANK_RECON_MALFORMED',
    description: 'The reconciliation report is not a valid sceneway.recon.v1 document.',
  },
  {
    code: 'BANK_RECON_MISMATCH',
    description: 'The box reconciliation report differs from what the bank holds for the day.',
  },
  {
    code: 'BANK_RECON_OFF',
    description: 'Refusal: this bank takes no reconciliation uploads (no --recon-dir).',
  },
  {
    code: 'BANK_REQUEST_MALFORMED',
    description: 'Refusal: a request header or parameter is missing or malformed.',
  },
  {
    code: 'BANK_REQUEST_STALE',
    description: 'Refusal: the request timestamp is outside the accepted window (clock?).',
  },
  {
    code: 'BANK_SEQUENCE_GAP',
    description: 'Refusal: the batch skips sequence numbers after the bank head.',
  },
  {
    code: 'BANK_SOURCE_RATE_LIMITED',
    description: 'Refusal: too many requests from one source address; retry after Retry-After.',
  },
  {
    code: 'BANK_SIGNATURE_INVALID',
    description: 'Refusal: a signature does not verify with the enrolled box key.',
  },
  { code: 'BATCH_BOX', description: 'A record in the batch belongs to another box.' },
  { code: 'BATCH_CHAIN', description: "A record's prevHash does not continue the chain." },
  { code: 'BATCH_COUNT', description: 'header.recordCount does not match the records in the batch.' },
  { code: 'BATCH_DIGEST', description: "The envelope's digest is not SM3 of the batch's canonical bytes." },
  { code: 'BATCH_KEY_ENVELOPE', description: 'The batch key envelope does not open with the key at hand.' },
  { code: 'BATCH_MALFORMED', description: 'The batch is not a valid batch v1 document.' },
  {
    code: 'BATCH_LONE_SURROGATE',
    description: 'A string holds a lone UTF-16 surrogate, which has no JCS form (RFC 8785 §3.2.2.2).',
  },
  {
    code: 'BATCH_PII_DIGEST',
    description: 'Personal data does not match its digest, or is not valid personal data.',
  },
  { code: 'BATCH_PII_FIELD', description: 'A personal-data field has a reserved name.' },
  { code: 'BATCH_PII_SALT', description: 'The personal-data salt is not 32 lowercase hex digits.' },
  {
    code: 'BATCH_SEQ_GAP',
    description: 'The records do not run exactly from header.firstSeq to header.lastSeq.',
  },
  { code: 'BATCH_TOTALS', description: 'header.totalsFen does not match the records, or overflows.' },
  { code: 'CRYPTO_KEY_PEM', description: 'A key file is not the expected PEM block.' },
  {
    code: 'CRYPTO_SM2_DECRYPT',
    description: 'SM2 decryption failed: malformed input, wrong key or failed C3 check.',
  },
  { code: 'CRYPTO_SM2_ENCRYPT', description: 'SM2 cannot encrypt the message (empty).' },
  { code: 'CRYPTO_SM2_KEY', description: 'An SM2 key is malformed or out of range.' },
  {
    code: 'CRYPTO_SM4_DECRYPT',
    description: 'SM4-CBC decryption failed: wrong key, bad padding or malformed ciphertext.',
  },
  { code: 'CRYPTO_SM4_IV', description: 'An SM4-CBC IV is not 16 bytes.' },
  { code: 'CRYPTO_SM4_KEY', description: 'An SM4 key is not 16 bytes.' },
  {
    code: 'SYNC_ACK_INVALID',
    description: "Alert: the bank's acks do not verify; uploads pause until one does.",
  },
  { code: 'SYNC_ACK_MALFORMED', description: "The bank's ack is not a valid ack v1 document." },
  {
    code: 'SYNC_ACK_MISMATCH',
    description: 'The ack names another box, batch, digest or last sequence than the batch sent.',
  },
  { code: 'SYNC_ACK_SIGNATURE', description: 'The ack signature does not verify with the pinned bank key.' },
  {
    code: 'SYNC_ANSWER_TOO_LARGE',
    description: "The bank's answer is larger than the box reads; the connection is closed unread.",
  },
  {
    code: 'SYNC_BANK_DEADLINE',
    description: 'The bank did not answer completely within the request deadline; retried with backoff.',
  },
  {
    code: 'SYNC_BANK_UNREACHABLE',
    description: 'The bank cannot be reached; the uploader retries with backoff.',
  },
  {
    code: 'SYNC_BATCH_REFUSED',
    description: 'Alert: the bank refused a batch permanently; uploads stop, nothing is skipped.',
  },
  {
    code: 'SYNC_BUILD',
    description: 'Building a batch failed (the batch worker crashed or answered wrongly).',
  },
  {
    code: 'SYNC_ENROL_ANSWER',
    description: "The bank's enrolment answer is malformed, or for another box or box key.",
  },
  {
    code: 'SYNC_ENROL_ANSWER_SIGNATURE',
    description: 'The enrolment answer is not signed by the pinned bank key.',
  },
  {
    code: 'SYNC_ENROL_KEY',
    description: 'The enrolment public key does not belong to the signing private key.',
  },
  { code: 'SYNC_ENROL_MALFORMED', description: 'The enrolment request is not a valid enrolment document.' },
  { code: 'SYNC_ENROL_SIGNATURE', description: 'The enrolment is not signed by the key it enrols.' },
  { code: 'SYNC_HOLDER_KEY', description: 'A holder-digest key is not 32 bytes.' },
  {
    code: 'SYNC_RECORD_ACK',
    description: "Recording the bank's verified ack in the ledger failed; it is fetched again.",
  },
  {
    code: 'SYNC_REFUSAL_UNVERIFIED',
    description:
      'A bank refusal is unsigned or not signed by the pinned bank key for this request; treated as try later (alert after 3).',
  },
  { code: 'SYNC_REQUEST_MALFORMED', description: 'A signed request header is missing or malformed.' },
  {
    code: 'SYNC_REQUEST_SIGNATURE',
    description: 'A request signature does not verify with the enrolled box key.',
  },
  { code: 'SYNC_REQUEST_STALE', description: 'A request timestamp is outside the accepted window.' },
] as const;

export type SyncErrorCode = (typeof SYNC_ERROR_CODES)[number]['code'];

/**
 * What the reference bank answers a box with: one of its own BANK_ codes, or BANK_ and the code of
 * the SyncError a batch check raised (BANK_BATCH_CHAIN, BANK_CRYPTO_SM4_DECRYPT …), so the box learns
 * which check failed.
 */
export type BankRefusalCode = Extract<SyncErrorCode, `BANK_${string}`> | `BANK_${SyncErrorCode}`;
