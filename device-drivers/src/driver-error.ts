import { type DriverErrorCode, SceneError } from '@sceneway/core';

/**
 * Errors raised by drivers and their pure codecs. Codes are stable strings by family
 * (POS_FRAME_CRC, POS_FRAME_LENGTH, HID_REPORT_SHORT ...), listed in @sceneway/core's
 * DRIVER_ERROR_CODES, so support can read a log line and fuzz tests can assert that junk only ever
 * produces a DriverError, never a crash.
 */
export class DriverError extends SceneError<DriverErrorCode> {
  override readonly name = 'DriverError';
  constructor(code: DriverErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
