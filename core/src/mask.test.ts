import { describe, expect, it } from 'vitest';
import { maskCredential, maskTail } from './mask.ts';

describe('one masking function (DESIGN invariant 5)', () => {
  it('shows at most the last 4 characters of a card UID', () => {
    expect(maskCredential({ kind: 'card', uidHex: '04A1B2C3D4' })).toBe('card:******C3D4');
    expect(maskCredential({ kind: 'card', uidHex: '04A1B2C3D4E5F6' })).toBe('card:**********E5F6');
  });

  it('shows nothing of a value of 8 characters or fewer (a 4-byte UID)', () => {
    expect(maskTail('04A1B2C3')).toBe('********');
    expect(maskTail('')).toBe('');
  });

  it('never shows any part of a QR token', () => {
    const masked = maskCredential({ kind: 'qr', token: 'QR1.secretpart' });
    expect(masked).toBe('qr:<14 chars>');
    expect(masked).not.toContain('secret');
  });

  it('keeps the last 4 of an account or token id', () => {
    expect(maskTail('acct-20250001')).toBe('*********0001');
  });
});
