import { SyncError, verifyRefusal } from '@sceneway/cloud-sync';

/**
 * What an HTTP answer from the bank ingest means for the uploader (docs/bank-ingest.md, "Refusals"):
 * 200 carries an ack still to be verified; 429 and 5xx are transient; other 4xx are permanent, except
 * the request-freshness codes, which a new request (new nonce, new timestamp) can cure. A permanent
 * refusal counts only when it is signed by the pinned bank key about this very request
 * (sceneway.refusal.v1): anything else on the path could stop the box's uploads with one forged 4xx,
 * so an unsigned or badly signed one is "try later" (SYNC_REFUSAL_UNVERIFIED), with backoff.
 */
export type BankVerdict =
  | { kind: 'ack' }
  | { kind: 'retry'; code: string; message: string }
  | { kind: 'stop'; code: string; message: string; bankHeadSeq?: number };

/** The bank's refusals about batch order; they carry the bank's head for the box (bankHeadSeq). */
const ORDER_REFUSALS = new Set(['BANK_BATCH_CONFLICT', 'BANK_CHAIN_BROKEN', 'BANK_SEQUENCE_GAP']);

/**
 * Whether a permanent refusal says the bank holds more of this box's chain than the box knows was
 * acknowledged: the bank's head is at or past the first record of the refused batch. The box's ledger
 * was restored from an older copy (or lost its tail), and its new records re-use sequence numbers the
 * bank already holds (docs/decisions.md D17). A batchSeq stored with other content says the same even
 * from a bank that does not send its head.
 */
export function behindBank(
  verdict: Extract<BankVerdict, { kind: 'stop' }>,
  batch: { firstSeq: number },
): { bankHeadSeq: number | null } | null {
  if (!ORDER_REFUSALS.has(verdict.code)) return null;
  if (verdict.bankHeadSeq !== undefined) {
    return verdict.bankHeadSeq >= batch.firstSeq ? { bankHeadSeq: verdict.bankHeadSeq } : null;
  }
  return verdict.code === 'BANK_BATCH_CONFLICT' ? { bankHeadSeq: null } : null;
}

const RETRYABLE_REFUSALS = new Set([
  'BANK_NONCE_REPLAYED',
  'BANK_REQUEST_STALE',
  'BANK_RATE_LIMITED',
  'BANK_INTERNAL',
]);

/** The bank's refusal `{code, message}` in an answer body, or null when the body is not one. */
export function refusalOf(body: Buffer): { code: string; message: string; bankHeadSeq?: number } | null {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as {
      code?: unknown;
      message?: unknown;
      bankHeadSeq?: unknown;
    };
    if (typeof parsed.code === 'string' && /^[A-Z0-9_]{3,64}$/.test(parsed.code)) {
      return {
        code: parsed.code,
        message: typeof parsed.message === 'string' ? parsed.message.slice(0, 300) : '',
        ...(Number.isSafeInteger(parsed.bankHeadSeq) && (parsed.bankHeadSeq as number) >= 0
          ? { bankHeadSeq: parsed.bankHeadSeq as number }
          : {}),
      };
    }
  } catch {
    // Not JSON: an answer from something that is not the bank ingest (a proxy error page).
  }
  return null;
}

/** What a refusal must be bound to for the box to act on it. */
export interface RefusalTrust {
  bankPublicKeyHex: string;
  boxId: string;
  requestNonce: string;
  userId?: string | undefined;
}

/** The `signed` member of a refusal body, verified; null when it is missing or does not verify. */
function verifiedRefusal(body: Buffer, status: number, trust: RefusalTrust): { error: string } | null {
  let signed: unknown;
  try {
    signed = (JSON.parse(body.toString('utf8')) as { signed?: unknown }).signed;
  } catch {
    return { error: 'the refusal is not JSON' };
  }
  if (signed === undefined) return { error: 'the refusal is unsigned' };
  try {
    verifyRefusal(
      signed,
      trust.bankPublicKeyHex,
      { boxId: trust.boxId, requestNonce: trust.requestNonce, status },
      trust.userId ? { userId: trust.userId } : {},
    );
    return null;
  } catch (e) {
    return { error: e instanceof SyncError ? e.message : String(e) };
  }
}

export function classifyBankAnswer(
  answer: { status: number; body: Buffer },
  trust: RefusalTrust,
): BankVerdict {
  if (answer.status === 200) return { kind: 'ack' };
  const refusal = refusalOf(answer.body);
  const code = refusal?.code ?? `SYNC_HTTP_${answer.status}`;
  const message = refusal?.message ?? `the bank answered HTTP ${answer.status} without a refusal code`;
  if (answer.status === 429 || answer.status >= 500 || RETRYABLE_REFUSALS.has(code))
    return { kind: 'retry', code, message };
  // A 4xx without the bank's refusal body is not a verdict about the batch (e.g. a proxy's 404 page).
  if (!refusal) return { kind: 'retry', code, message };
  const unverified = verifiedRefusal(answer.body, answer.status, trust);
  if (unverified) {
    return {
      kind: 'retry',
      code: 'SYNC_REFUSAL_UNVERIFIED',
      message: `HTTP ${answer.status} ${code} not acted on: ${unverified.error}`,
    };
  }
  return refusal.bankHeadSeq === undefined
    ? { kind: 'stop', code, message }
    : { kind: 'stop', code, message, bankHeadSeq: refusal.bankHeadSeq };
}
