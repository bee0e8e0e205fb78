import { describe, expect, it } from 'vitest';
import { openssl } from '../crypto/test-support/openssl.ts';
import {
  holderKeyForBox,
  keyedHolderDigest,
  keyedHolderDigests,
  legacyHolderDigests,
} from './holder-digest.ts';

const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));

/** HMAC-SM3 by the openssl command line: the independent implementation (DESIGN "National cryptography"). */
const opensslHmacSm3 = (key: Buffer, message: string): string =>
  openssl(
    ['dgst', '-sm3', '-mac', 'HMAC', '-macopt', `hexkey:${key.toString('hex')}`, '-binary'],
    Buffer.from(message),
  ).toString('hex');

describe('holder digests (D27)', () => {
  it('are HMAC-SM3 of the namespaced holder, as openssl computes it', () => {
    const digests = keyedHolderDigests(KEY);
    expect(digests.card('04a1b2c3d4')).toBe(opensslHmacSm3(KEY, 'card:04A1B2C3D4'));
    expect(digests.account('student-2026-0042')).toBe(opensslHmacSm3(KEY, 'account:student-2026-0042'));
  });

  it('match a fixed known answer (no drift between releases)', () => {
    expect(keyedHolderDigest(Buffer.alloc(32), 'card:04A1')).toBe(
      '215f3f8385f68afd64d87361322d81e464b6e0d0abf856b241858d6bf074d83b',
    );
  });

  it('differ per box: the bank derives one key per box id, and the same card digests apart', () => {
    const bankKey = 'ab'.repeat(32);
    const a = keyedHolderDigests(holderKeyForBox(bankKey, 'box-a'));
    const b = keyedHolderDigests(holderKeyForBox(bankKey, 'box-b'));
    expect(holderKeyForBox(bankKey, 'box-a')).toEqual(holderKeyForBox(bankKey, 'box-a'));
    expect(a.card('04DEADBEEF')).not.toBe(b.card('04DEADBEEF'));
    expect(a.card('04DEADBEEF')).not.toBe(legacyHolderDigests.card('04DEADBEEF'));
    expect(holderKeyForBox('cd'.repeat(32), 'box-a')).not.toEqual(holderKeyForBox(bankKey, 'box-a'));
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => keyedHolderDigests(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});
