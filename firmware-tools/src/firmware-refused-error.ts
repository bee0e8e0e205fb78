import { type FirmwareErrorCode, SceneError } from '@sceneway/core';

/**
 * Why a firmware package was refused (docs/firmware-format.md, "Refusal codes"). The only error the
 * package reader throws for anything in the file: the fuzz test holds it to that, so a box that is
 * handed junk says what is wrong with the file instead of crashing.
 */
export class FirmwareRefusedError extends SceneError<FirmwareErrorCode> {
  override readonly name = 'FirmwareRefusedError';
  constructor(code: FirmwareErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

export function isFirmwareRefusedError(err: unknown, code?: FirmwareErrorCode): err is FirmwareRefusedError {
  return err instanceof FirmwareRefusedError && (code === undefined || err.code === code);
}
