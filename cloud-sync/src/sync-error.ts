import { SceneError, type SyncErrorCode } from '@sceneway/core';

/**
 * Errors of the sync layer. Codes are stable strings prefixed by layer (SYNC_, BANK_, CRYPTO_, BATCH_),
 * listed in @sceneway/core's SYNC_ERROR_CODES, so that a log line, an alert and a bank refusal all
 * name the same thing. `hint` tells the operator what to do; it never carries a key or personal data.
 */
export class SyncError extends SceneError<SyncErrorCode> {
  override readonly name = 'SyncError';
  constructor(code: SyncErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(code, message, { ...options, hint });
  }
}
