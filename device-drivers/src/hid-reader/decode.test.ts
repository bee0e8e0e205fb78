import { describe, expect, it } from 'vitest';
import { DriverError } from '../driver-error.ts';
import { credentialFromText } from './credential-text.ts';
import { BAD_VENDOR_FIXTURES, VENDOR_FIXTURES, WEDGE_FIXTURES } from './fixtures/recorded-reports.ts';
import { createKeyboardWedgeDecoder, encodeKeyboardWedge, type WedgeOutput } from './keyboard-wedge.ts';
import { decodeVendorReport, encodeVendorReport } from './vendor-report.ts';

const feed = (
  reports: ArrayLike<number>[],
  opts: { idleResetMs?: number; maxLength?: number } = {},
  stepMs = 8,
) => {
  const decoder = createKeyboardWedgeDecoder(opts);
  const out: WedgeOutput[] = [];
  for (const [i, report] of reports.entries()) out.push(...decoder.push(Uint8Array.from(report), i * stepMs));
  return out;
};

describe('keyboard-wedge decode of recorded reports', () => {
  for (const f of WEDGE_FIXTURES) {
    it(f.name, () => {
      const out = feed(f.reports);
      expect(out).toHaveLength(1);
      const read = out[0];
      expect(read?.kind).toBe('read');
      if (read?.kind === 'read') expect(credentialFromText(read.text, f.cardText)).toEqual(f.expected);
    });
  }

  it('reads cards back to back, each ended by Enter', () => {
    const reports = [...WEDGE_FIXTURES[0]!.reports, ...WEDGE_FIXTURES[2]!.reports];
    expect(feed(reports).map((o) => (o.kind === 'read' ? o.text : o.why))).toEqual([
      '04A1B2C3D4E5F6',
      '12345678',
    ]);
  });

  it('discards a read left unfinished longer than idleResetMs instead of gluing it to the next card', () => {
    const decoder = createKeyboardWedgeDecoder({ idleResetMs: 200 });
    const half = encodeKeyboardWedge('04A1').slice(0, 8); // four characters, no Enter
    for (const [i, r] of half.entries()) decoder.push(r, i);
    const next = encodeKeyboardWedge('DEADBEEF');
    const out = next.flatMap((r, i) => decoder.push(r, 1_000 + i));
    expect(out).toEqual([
      { kind: 'discarded', length: 4, why: 'idle' },
      { kind: 'read', text: 'DEADBEEF' },
    ]);
  });

  it('drops an over-long read as a whole, then reads the next one', () => {
    const out = feed(
      [...encodeKeyboardWedge('A'.repeat(20)), ...encodeKeyboardWedge('12345678')],
      { maxLength: 16 },
      1,
    );
    expect(out).toEqual([
      { kind: 'discarded', length: 16, why: 'overflow' },
      { kind: 'read', text: '12345678' },
    ]);
  });

  it('refuses a report that is not 8 bytes with HID_REPORT_LENGTH', () => {
    const decoder = createKeyboardWedgeDecoder();
    expect(() => decoder.push(new Uint8Array(9), 0)).toThrow(
      expect.objectContaining({ code: 'HID_REPORT_LENGTH' }),
    );
  });

  it('maps reads to credentials, and refuses what is neither a card nor a token', () => {
    expect(credentialFromText('deadbeef', 'hex')).toEqual({ kind: 'card', uidHex: 'DEADBEEF' });
    expect(credentialFromText('4294967295', 'decimal')).toEqual({ kind: 'card', uidHex: 'FFFFFFFF' });
    expect(() => credentialFromText('1234', 'hex')).toThrow(DriverError);
    expect(() => credentialFromText('has space in it but long', 'hex')).toThrow(/neither/);
    expect(() => credentialFromText('9'.repeat(25), 'decimal')).toThrow(/more than 10 bytes/);
  });
});

describe('vendor report decode', () => {
  for (const f of VENDOR_FIXTURES) {
    it(f.name, () => {
      expect(decodeVendorReport(Uint8Array.from(f.report))).toEqual({
        cardType: f.cardType,
        uidHex: f.uidHex,
      });
      expect(Array.from(encodeVendorReport({ cardType: f.cardType, uidHex: f.uidHex }))).toEqual(f.report);
    });
  }
  for (const f of BAD_VENDOR_FIXTURES) {
    it(`refuses: ${f.name} (${f.code})`, () => {
      expect(() => decodeVendorReport(Uint8Array.from(f.report))).toThrow(
        expect.objectContaining({ code: f.code }),
      );
    });
  }
});
