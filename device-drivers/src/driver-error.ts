/**
 * Errors raised by drivers and their pure codecs. Codes are stable strings by family
 * (POS_FRAME_CRC, POS_FRAME_LENGTH, HID_REPORT_SHORT ...), so support can read a log line and
 * fuzz tests can assert that junk only ever produces a DriverError, never a crash.
 */
export class DriverError extends Error {
  override readonly name = 'DriverError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
