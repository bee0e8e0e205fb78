import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SyncError } from '../sync-error.ts';
import { sm4CbcDecrypt, sm4CbcEncrypt } from './sm4.ts';
import { sm4CbcDecryptMany, sm4CbcEncryptMany } from './sm4-many.ts';

const items = fc.array(fc.uint8Array({ maxLength: 80 }), { minLength: 1, maxLength: 40 });

describe('SM4-CBC over many items in one call', () => {
  it('every item encrypted together decrypts alone with plain SM4-CBC, and back together', () => {
    fc.assert(
      fc.property(items, (plaintexts) => {
        const key = randomBytes(16);
        const sealed = sm4CbcEncryptMany(key, plaintexts);
        expect(sealed).toHaveLength(plaintexts.length);
        sealed.forEach((s, i) => {
          expect(sm4CbcDecrypt(key, s.iv, s.ciphertext)).toEqual(Buffer.from(plaintexts[i]!));
        });
        expect(sm4CbcDecryptMany(key, sealed)).toEqual(plaintexts.map((p) => Buffer.from(p)));
      }),
    );
  });

  it('items each encrypted alone (fresh IVs) decrypt together', () => {
    fc.assert(
      fc.property(items, (plaintexts) => {
        const key = randomBytes(16);
        const sealed = plaintexts.map((p) => sm4CbcEncrypt(key, p));
        expect(sm4CbcDecryptMany(key, sealed)).toEqual(plaintexts.map((p) => Buffer.from(p)));
      }),
    );
  });

  it('gives every item a distinct IV and never repeats the stream for the same input', () => {
    const key = randomBytes(16);
    const same = Array.from({ length: 5 }, () => Buffer.from('6222020200001234567'));
    const a = sm4CbcEncryptMany(key, same);
    const b = sm4CbcEncryptMany(key, same);
    expect(new Set(a.map((s) => s.iv.toString('hex'))).size).toBe(5);
    expect(new Set(a.map((s) => s.ciphertext.toString('hex'))).size).toBe(5);
    expect(a[0]!.ciphertext).not.toEqual(b[0]!.ciphertext);
  });

  it('names the item that does not decrypt (wrong key, bad padding, ragged length)', () => {
    const key = randomBytes(16);
    const sealed = sm4CbcEncryptMany(key, [Buffer.from('a'), Buffer.from('bb'), Buffer.from('ccc')]);
    const tampered = sealed.map((s, i) =>
      i === 2 ? { iv: s.iv, ciphertext: Buffer.from(s.ciphertext.map((b, j) => (j === 15 ? b ^ 1 : b))) } : s,
    );
    expect(() => sm4CbcDecryptMany(key, tampered)).toThrow(/item 2/);
    const ragged = [sealed[0]!, { iv: sealed[1]!.iv, ciphertext: sealed[1]!.ciphertext.subarray(0, 7) }];
    expect(() => sm4CbcDecryptMany(key, ragged)).toThrow(/item 1: ciphertext length 7/);
    try {
      sm4CbcDecryptMany(randomBytes(16), sealed);
      expect.unreachable('a wrong key must not decrypt');
    } catch (err) {
      // A wrong key leaves valid-looking PKCS#7 padding with probability ~1/256 per item: all three ~6e-8.
      expect((err as SyncError).code).toBe('CRYPTO_SM4_DECRYPT');
    }
  });

  it('handles no items', () => {
    expect(sm4CbcEncryptMany(randomBytes(16), [])).toEqual([]);
    expect(sm4CbcDecryptMany(randomBytes(16), [])).toEqual([]);
  });
});
