import type { NakReasonName } from './codes.ts';

/** A frame the terminal can read (good CRC) but not use; `nak` is the reason the document gives (§6.4). */
export class WireError extends Error {
  constructor(
    readonly nak: NakReasonName,
    message: string,
  ) {
    super(message);
    this.name = 'WireError';
  }
}
