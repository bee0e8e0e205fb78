import type { SceneErrorCode } from './error-codes/index.ts';

/**
 * The base of Sceneway's one error family. Each layer's class (GatewayError, SyncError, DriverError)
 * narrows `code` to its layer's list, so TypeScript refuses a code nobody documented; the lists are
 * in ./error-codes and docs/error-codes.md is generated from them. `message` says what happened,
 * `hint` what the operator should do; neither ever carries a secret, a key or a full card number.
 */
export class SceneError<Code extends SceneErrorCode = SceneErrorCode> extends Error {
  override readonly name: string = 'SceneError';
  readonly code: Code;
  readonly hint: string | undefined;

  constructor(code: Code, message: string, options?: { hint?: string | undefined; cause?: unknown }) {
    super(message, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.hint = options?.hint;
  }
}

/** True for any error of the family, optionally with one given code. */
export function isSceneError(err: unknown, code?: SceneErrorCode): err is SceneError {
  return err instanceof SceneError && (code === undefined || err.code === code);
}
