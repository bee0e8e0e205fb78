import type { SessionKeys } from './wire/index.ts';

/**
 * One v2 session as the terminal holds it (docs/protocols/canteen-pos.md §12.3): the two direction keys
 * and the two counters. The terminal's send counter goes up per NEW frame (a retransmission repeats
 * the frame and its counter); the box's last accepted counter only moves forward.
 */
export class TerminalSession {
  private sent = 0;
  private lastFromBox = 0;

  constructor(readonly keys: SessionKeys) {}

  /** The counter of the last frame sent (0 before the first). */
  get lastSent(): number {
    return this.sent;
  }

  nextCounter(): number {
    this.sent += 1;
    return this.sent;
  }

  /** True if a box counter is fresh; records it. Gaps are fine (frames get lost). */
  acceptFromBox(counter: number): boolean {
    if (counter <= this.lastFromBox) return false;
    this.lastFromBox = counter;
    return true;
  }
}
