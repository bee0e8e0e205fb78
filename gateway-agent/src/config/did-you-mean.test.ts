import { describe, expect, it } from 'vitest';
import { closestKey, editDistance } from './did-you-mean.ts';

describe('did you mean', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('', '')).toBe(0);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('caPaht', 'caPath')).toBe(2);
    expect(editDistance('abc', '')).toBe(3);
  });

  it('suggests a near miss, a missing unit suffix, or a case slip, and nothing for an unrelated key', () => {
    const limits = ['perTransactionLimitFen', 'perDayLimitFen', 'offlineFloorLimitFen', 'timezone'];
    expect(closestKey('perTransactionLimit', limits)).toBe('perTransactionLimitFen');
    expect(closestKey('perDayLimit', limits)).toBe('perDayLimitFen');
    expect(closestKey('timeZone', limits)).toBe('timezone');
    expect(closestKey('timzone', limits)).toBe('timezone');
    expect(closestKey('directory', ['dir'])).toBe('dir');
    expect(closestKey('colour', limits)).toBeUndefined();
    expect(closestKey('per', limits)).toBeUndefined();
    expect(closestKey('anything', [])).toBeUndefined();
  });
});
