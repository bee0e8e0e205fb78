import { describe, expect, it } from 'vitest';
import { maskCredential } from './mask-credential.ts';
import { fitDisplayText } from './request-handler.ts';

describe('screen text and log masking', () => {
  it('cuts display text at a UTF-8 character boundary', () => {
    const long = '余额不足请充值后再试'.repeat(3); // 30 characters, 90 bytes
    const fitted = fitDisplayText(long);
    expect(Buffer.byteLength(fitted, 'utf8')).toBeLessThanOrEqual(64);
    expect(fitted).toBe(long.slice(0, 21));
    expect(fitDisplayText('OK')).toBe('OK');
  });

  it('masks card UIDs and never shows any part of a QR token', () => {
    expect(maskCredential({ kind: 'card', uidHex: '04A1B2C3D4E5F6' })).toBe('card:**********E5F6');
    const masked = maskCredential({ kind: 'qr', token: 'QR1.secretpart' });
    expect(masked).toBe('qr:<14 chars>');
    expect(masked).not.toContain('secret');
  });
});
