/**
 * What an HTTP answer from the bank ingest means for the uploader (docs/bank-ingest.md, "Refusals"):
 * 200 carries an ack still to be verified; 429 and 5xx are transient; other 4xx are permanent, except
 * the request-freshness codes, which a new request (new nonce, new timestamp) can cure.
 */
export type BankVerdict =
  | { kind: 'ack' }
  | { kind: 'retry'; code: string; message: string }
  | { kind: 'stop'; code: string; message: string };

const RETRYABLE_REFUSALS = new Set([
  'BANK_NONCE_REPLAYED',
  'BANK_REQUEST_STALE',
  'BANK_RATE_LIMITED',
  'BANK_INTERNAL',
]);

/** The bank's refusal `{code, message}` in an answer body, or null when the body is not one. */
export function refusalOf(body: Buffer): { code: string; message: string } | null {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { code?: unknown; message?: unknown };
    if (typeof parsed.code === 'string' && /^[A-Z0-9_]{3,64}$/.test(parsed.code)) {
      return {
        code: parsed.code,
        message: typeof parsed.message === 'string' ? parsed.message.slice(0, 300) : '',
      };
    }
  } catch {
    // Not JSON: an answer from something that is not the bank ingest (a proxy error page).
  }
  return null;
}

export function classifyBankAnswer(answer: { status: number; body: Buffer }): BankVerdict {
  if (answer.status === 200) return { kind: 'ack' };
  const refusal = refusalOf(answer.body);
  const code = refusal?.code ?? `SYNC_HTTP_${answer.status}`;
  const message = refusal?.message ?? `the bank answered HTTP ${answer.status} without a refusal code`;
  if (answer.status === 429 || answer.status >= 500 || RETRYABLE_REFUSALS.has(code))
    return { kind: 'retry', code, message };
  // A 4xx without the bank's refusal body is not a verdict about the batch (e.g. a proxy's 404 page).
  if (!refusal) return { kind: 'retry', code, message };
  return { kind: 'stop', code, message };
}
