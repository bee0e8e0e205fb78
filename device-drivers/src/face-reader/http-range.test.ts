import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRangeHeader } from './http-range.ts';

describe('parseRangeHeader (RFC 9110 §14.1.2, §14.2)', () => {
  const size = 1000;
  it.each([
    ['bytes=0-99', { kind: 'range', start: 0, end: 99 }],
    ['bytes=500-', { kind: 'range', start: 500, end: 999 }],
    ['bytes=900-5000', { kind: 'range', start: 900, end: 999 }], // last-pos clamped
    ['bytes=-100', { kind: 'range', start: 900, end: 999 }],
    ['bytes=-5000', { kind: 'range', start: 0, end: 999 }], // a suffix longer than the image: all of it
    ['BYTES = 10 - 20', { kind: 'range', start: 10, end: 20 }],
    ['bytes=999-999', { kind: 'range', start: 999, end: 999 }],
    ['bytes=1000-', { kind: 'unsatisfiable' }],
    ['bytes=1000-2000', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=99999999999999999999-', { kind: 'unsatisfiable' }],
    ['bytes=5-2', { kind: 'ignore' }],
    ['bytes=0-1,3-4', { kind: 'ignore' }],
    ['bytes=abc', { kind: 'ignore' }],
    ['bytes=-', { kind: 'ignore' }],
    ['bytes=--5', { kind: 'ignore' }],
    ['bytes=1.5-3', { kind: 'ignore' }],
    ['items=0-5', { kind: 'ignore' }],
    ['', { kind: 'ignore' }],
  ])('%s', (header, expected) => {
    expect(parseRangeHeader(header, size)).toEqual(expected);
  });

  it('answers any header with a range inside the image, unsatisfiable, or ignore; never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), fc.integer({ min: 0, max: 1 << 30 }), (header, n) => {
        const answer = parseRangeHeader(`bytes=${header}`, n);
        if (answer.kind === 'range') {
          expect(answer.start).toBeGreaterThanOrEqual(0);
          expect(answer.end).toBeGreaterThanOrEqual(answer.start);
          expect(answer.end).toBeLessThan(n);
        }
      }),
    );
  });
});
