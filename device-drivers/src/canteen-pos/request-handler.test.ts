import { describe, expect, it } from 'vitest';
import { fitDisplayText } from './request-handler.ts';

describe('screen text', () => {
  it('cuts display text at a UTF-8 character boundary', () => {
    const long = '余额不足请充值后再试'.repeat(3); // 30 characters, 90 bytes
    const fitted = fitDisplayText(long);
    expect(Buffer.byteLength(fitted, 'utf8')).toBeLessThanOrEqual(64);
    expect(fitted).toBe(long.slice(0, 21));
    expect(fitDisplayText('OK')).toBe('OK');
  });
});
