import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DriverError } from '../driver-error.ts';
import { credentialFromText } from './credential-text.ts';
import { createKeyboardWedgeDecoder, encodeKeyboardWedge } from './keyboard-wedge.ts';
import { CARD_TYPES, type CardType, decodeVendorReport, encodeVendorReport } from './vendor-report.ts';

/** Runs `fn`; passes when it returns or throws a DriverError, fails on any other throw. */
function onlyDriverErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DriverError);
  }
}

const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });
const printable = fc.string({
  unit: fc.constantFrom(...'0123456789ABCDEFabcdefXYZ.-_=+/?!@# ~'.split('')),
  maxLength: 80,
});

describe('HID decoders on junk', () => {
  it('keyboard-wedge: any sequence of any reports yields reads or DriverErrors, nothing else', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(bytes(12), fc.uint8Array({ minLength: 8, maxLength: 8 })), { maxLength: 60 }),
        (reports) => {
          const decoder = createKeyboardWedgeDecoder({ maxLength: 64 });
          for (const [i, r] of reports.entries()) {
            onlyDriverErrors(() => {
              for (const out of decoder.push(r, i * 10)) {
                if (out.kind === 'read') {
                  expect(out.text.length).toBeLessThanOrEqual(64);
                  onlyDriverErrors(() => credentialFromText(out.text, 'hex'));
                  onlyDriverErrors(() => credentialFromText(out.text, 'decimal'));
                }
              }
            });
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('vendor: any bytes decode to a valid card read or a DriverError', () => {
    fc.assert(
      fc.property(bytes(70), (report) => {
        onlyDriverErrors(() => {
          const read = decodeVendorReport(report);
          expect(read.uidHex).toMatch(/^(?:[0-9A-F]{2}){4,10}$/);
        });
      }),
      { numRuns: 2_000 },
    );
  });

  it('vendor: every single-bit error outside the length byte is detected', () => {
    const arb = fc.record({
      uid: fc.uint8Array({ minLength: 4, maxLength: 10 }),
      type: fc.constantFrom(...(Object.values(CARD_TYPES) as CardType[])),
      bit: fc.nat(),
    });
    fc.assert(
      fc.property(arb, ({ uid, type, bit }) => {
        const read = { cardType: type, uidHex: Buffer.from(uid).toString('hex').toUpperCase() };
        const report = encodeVendorReport(read);
        expect(decodeVendorReport(report)).toEqual(read);
        // Any single bit of the id, type, UID or checksum. (A flip in the length byte moves the checksum,
        // so a one-byte checksum catches it only with probability 255/256: USB's CRC16 is the guard there.)
        const positions = [0, ...Array.from({ length: uid.length + 2 }, (_, k) => 2 + k)];
        const i = bit % (positions.length * 8);
        report[positions[i >> 3]!]! ^= 1 << (i & 7);
        expect(() => decodeVendorReport(report)).toThrow(DriverError);
      }),
      { numRuns: 1_000 },
    );
  });

  it('keyboard-wedge: typed text round-trips through the decoder', () => {
    fc.assert(
      fc.property(
        printable.filter((s) => s.length > 0),
        (text) => {
          const decoder = createKeyboardWedgeDecoder();
          const out = encodeKeyboardWedge(text).flatMap((r, i) => decoder.push(r, i));
          expect(out).toEqual([{ kind: 'read', text }]);
        },
      ),
      { numRuns: 500 },
    );
  });
});
