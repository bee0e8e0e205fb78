/**
 * Errors of the sync layer. Codes are stable strings prefixed by layer (SYNC_, BANK_, CRYPTO_, BATCH_)
 * so that a log line, an alert and a bank refusal all name the same thing. `hint` tells the operator
 * what to do; it never carries a key or personal data.
 */
export class SyncError extends Error {
  override readonly name = 'SyncError';
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
