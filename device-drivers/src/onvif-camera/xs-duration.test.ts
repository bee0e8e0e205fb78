import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { xsDurationMs } from './xs-duration.ts';

describe('xs:duration of StartFirmwareUpgrade (UploadDelay, ExpectedDownTime)', () => {
  it('reads the forms cameras write', () => {
    expect(xsDurationMs('PT0S')).toBe(0);
    expect(xsDurationMs('PT5S')).toBe(5000);
    expect(xsDurationMs('PT0.25S')).toBe(250);
    expect(xsDurationMs('PT1M30S')).toBe(90_000);
    expect(xsDurationMs(' P0DT0H2M ')).toBe(120_000);
    expect(xsDurationMs('P1DT1H')).toBe(90_000_000);
  });

  it('gives null for anything else, and never throws', () => {
    for (const text of ['', 'P', 'PT', 'PT-5S', '5', 'PT5', 'soon', 'P1Y', '2026-12-01T12:00:00Z']) {
      expect(xsDurationMs(text)).toBeNull();
    }
    fc.assert(
      fc.property(fc.string(), (text) => {
        const ms = xsDurationMs(text);
        expect(ms === null || (Number.isFinite(ms) && ms >= 0)).toBe(true);
      }),
    );
  });
});
