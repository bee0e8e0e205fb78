import { DriverError } from '../driver-error.ts';
import {
  charOfUsage,
  SHIFT_BITS,
  USAGE_ENTER,
  USAGE_ERROR_MAX,
  USAGE_KEYPAD_ENTER,
  usageOfChar,
} from './usage-table.ts';

/**
 * Keyboard-wedge readers type what they read, as a USB keyboard, and press Enter. Each input report is
 * an 8-byte boot keyboard report (HID 1.11 Appendix B.1): modifier bits, a reserved byte, and up to six
 * usage ids of the keys held *now*. A report is a state, not an event, so a character is typed when its
 * key appears in a report after a report without it:
 *  - a key held across reports (the host polled twice before release) is one character, not two;
 *  - a key released and pressed again ("11") needs a report without it in between, as on any keyboard;
 *  - keys newly down in the same report are taken in slot order (readers that never release between
 *    different keys still decode);
 *  - an ErrorRollOver report (all slots 0x01) is a phantom state and changes nothing.
 * Enter ends a read. A read left half-typed for `idleResetMs` (reader unplugged mid-card, a stray key)
 * is discarded rather than glued to the next card's digits. Pure: time comes in with each report.
 */
export const BOOT_REPORT_LENGTH = 8;

export type WedgeOutput =
  | { kind: 'read'; text: string }
  | { kind: 'discarded'; length: number; why: 'idle' | 'overflow' };

export interface KeyboardWedgeDecoder {
  /** Throws DriverError HID_REPORT_LENGTH for a report that is not 8 bytes; never anything else. */
  push(report: Uint8Array, atMs: number): WedgeOutput[];
  reset(): void;
}

export function createKeyboardWedgeDecoder(
  opts: { maxLength?: number; idleResetMs?: number } = {},
): KeyboardWedgeDecoder {
  const maxLength = opts.maxLength ?? 512;
  const idleResetMs = opts.idleResetMs ?? 500;
  let held = new Set<number>();
  let text = '';
  let lastKeyAt = 0;
  /** Past maxLength: swallow the rest of this read up to Enter instead of emitting a tail as a read. */
  let overflowing = false;

  return {
    push(report, atMs) {
      if (report.length !== BOOT_REPORT_LENGTH) {
        throw new DriverError(
          'HID_REPORT_LENGTH',
          `keyboard report is ${report.length} bytes, expected ${BOOT_REPORT_LENGTH} (boot protocol)`,
        );
      }
      const out: WedgeOutput[] = [];
      const keys = Array.from(report.subarray(2)).filter((u) => u !== 0);
      if (keys.length > 0 && keys.every((u) => u <= USAGE_ERROR_MAX)) return out;
      const shift = ((report[0] ?? 0) & SHIFT_BITS) !== 0;
      const pressed = keys.filter((u) => !held.has(u));
      held = new Set(keys);
      if (pressed.length === 0) return out;
      if ((text.length > 0 || overflowing) && atMs - lastKeyAt > idleResetMs) {
        if (text.length > 0) out.push({ kind: 'discarded', length: text.length, why: 'idle' });
        text = '';
        overflowing = false;
      }
      lastKeyAt = atMs;
      for (const usage of pressed) {
        if (usage === USAGE_ENTER || usage === USAGE_KEYPAD_ENTER) {
          if (text.length > 0) out.push({ kind: 'read', text });
          text = '';
          overflowing = false;
          continue;
        }
        const ch = charOfUsage(usage, shift);
        if (ch === undefined || overflowing) continue; // Caps Lock, arrows, F-keys: never part of a read
        if (text.length >= maxLength) {
          out.push({ kind: 'discarded', length: text.length, why: 'overflow' });
          text = '';
          overflowing = true;
          continue;
        }
        text += ch;
      }
      return out;
    },
    reset() {
      held = new Set();
      text = '';
      overflowing = false;
    },
  };
}

/**
 * The reports a well-behaved reader sends for `text` + Enter: press, release, per character. For tests
 * and simulators. Throws DriverError HID_WEDGE_UNTYPABLE for a character a US keyboard cannot type.
 */
export function encodeKeyboardWedge(text: string): Uint8Array[] {
  const reports: Uint8Array[] = [];
  const release = new Uint8Array(BOOT_REPORT_LENGTH);
  for (const ch of text) {
    const key = usageOfChar(ch);
    if (!key) throw new DriverError('HID_WEDGE_UNTYPABLE', `a US keyboard cannot type ${JSON.stringify(ch)}`);
    reports.push(Uint8Array.from([key.shift ? 0x02 : 0, 0, key.usage, 0, 0, 0, 0, 0]), release);
  }
  reports.push(Uint8Array.from([0, 0, USAGE_ENTER, 0, 0, 0, 0, 0]), release);
  return reports;
}
