import { type GatewayErrorCode, SceneError } from '@sceneway/core';

/**
 * The agent's error family. Codes are stable strings grouped by layer (CONFIG_, LEDGER_, BROKER_,
 * POS_, SALE_ ...), listed in @sceneway/core's GATEWAY_ERROR_CODES: support reads a log line by its
 * code. The message says what happened; `hint` says what the operator should do. Neither ever
 * carries a secret, a key or a full card number.
 */
export class GatewayError extends SceneError<GatewayErrorCode> {
  override readonly name = 'GatewayError';
  constructor(code: GatewayErrorCode, message: string, hint?: string, options?: { cause?: unknown }) {
    super(code, message, { ...options, hint });
  }
}

export function isGatewayError(err: unknown, code?: GatewayErrorCode): err is GatewayError {
  return err instanceof GatewayError && (code === undefined || err.code === code);
}
