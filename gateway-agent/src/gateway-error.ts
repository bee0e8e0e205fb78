/**
 * The agent's error family. Codes are stable strings grouped by layer (CONFIG_, LEDGER_, BROKER_,
 * POS_, SALE_ ...): support reads a log line by its code. The message says what happened; `hint`
 * says what the operator should do. Neither ever carries a secret, a key or a full card number.
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isGatewayError(err: unknown, code?: string): err is GatewayError {
  return err instanceof GatewayError && (code === undefined || err.code === code);
}
