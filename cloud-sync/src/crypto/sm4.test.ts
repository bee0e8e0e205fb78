import { createCipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SyncError } from '../sync-error.ts';
import { sm4CbcDecrypt, sm4CbcEncrypt, sm4EcbDecrypt, sm4EcbEncrypt } from './sm4.ts';
import { openssl, tempDir } from './test-support/openssl.ts';

const hex = (s: string) => Buffer.from(s, 'hex');
// GB/T 32907-2016 Annex A: key = plaintext = 0123456789abcdeffedcba9876543210.
const KEY = hex('0123456789abcdeffedcba9876543210');

describe('SM4 block cipher (GB/T 32907 Annex A)', () => {
  it('encrypts example 1 and decrypts it back', () => {
    const ct = sm4EcbEncrypt(KEY, KEY);
    expect(ct.toString('hex')).toBe('681edf34d206965e86b3e94f536e4246');
    expect(sm4EcbDecrypt(KEY, ct).equals(KEY)).toBe(true);
  });

  it('reaches example 2 after 1,000,000 encryptions under the same key', () => {
    // One cipher object: ECB without padding returns each whole block from update() at once,
    // so 1M native calls replace 1M cipher constructions (about 1 s instead of minutes).
    const cipher = createCipheriv('sm4-ecb', KEY, null).setAutoPadding(false);
    let block: Buffer = KEY;
    for (let i = 0; i < 1_000_000; i++) block = cipher.update(block);
    expect(block.toString('hex')).toBe('595298c7c6fd271f0402f804c33d3f66');
    // The same first step through our wrapper, so the loop is known to compute what sm4EcbEncrypt does.
    expect(
      sm4EcbEncrypt(KEY, KEY).equals(createCipheriv('sm4-ecb', KEY, null).setAutoPadding(false).update(KEY)),
    ).toBe(true);
  });
});

describe('SM4-CBC with PKCS#7', () => {
  it('round-trips any plaintext with a fresh IV each time', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (plain) => {
        const a = sm4CbcEncrypt(KEY, plain);
        const b = sm4CbcEncrypt(KEY, plain);
        expect(a.iv.equals(b.iv)).toBe(false);
        expect(a.ciphertext.length).toBe((Math.floor(plain.length / 16) + 1) * 16);
        expect(sm4CbcDecrypt(KEY, a.iv, a.ciphertext).equals(Buffer.from(plain))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a wrong key, a torn ciphertext and bad key sizes with SyncError codes', () => {
    const iv = hex('000102030405060708090a0b0c0d0e0f');
    const { ciphertext } = sm4CbcEncrypt(KEY, Buffer.from('6222020200112233445'), iv);
    const wrong = hex('00112233445566778899aabbccddeeff');
    expect(() => sm4CbcDecrypt(wrong, iv, ciphertext)).toThrowError(
      expect.objectContaining({ code: 'CRYPTO_SM4_DECRYPT' }),
    );
    expect(() => sm4CbcDecrypt(KEY, iv, ciphertext.subarray(1))).toThrowError(SyncError);
    expect(() => sm4CbcEncrypt(KEY.subarray(1), Buffer.from('x'))).toThrowError(
      expect.objectContaining({ code: 'CRYPTO_SM4_KEY' }),
    );
    expect(() => sm4CbcEncrypt(KEY, Buffer.from('x'), iv.subarray(2))).toThrowError(
      expect.objectContaining({ code: 'CRYPTO_SM4_IV' }),
    );
  });

  it('interoperates with openssl enc -sm4-cbc both ways', () => {
    const dir = tempDir();
    try {
      const plain = Buffer.from('{"cardNumber":"6222020200112233445","salt":"00"} 多字节 UTF-8');
      const ours = sm4CbcEncrypt(KEY, plain);
      const ctFile = dir.write('ours.bin', ours.ciphertext);
      const opensslPlain = openssl([
        'enc',
        '-d',
        '-sm4-cbc',
        '-K',
        KEY.toString('hex'),
        '-iv',
        ours.iv.toString('hex'),
        '-in',
        ctFile,
      ]);
      expect(opensslPlain.equals(plain)).toBe(true);

      const iv = hex('f0e0d0c0b0a090807060504030201000');
      const ptFile = dir.write('plain.bin', plain);
      const outFile = join(dir.path, 'theirs.bin');
      openssl([
        'enc',
        '-e',
        '-sm4-cbc',
        '-K',
        KEY.toString('hex'),
        '-iv',
        iv.toString('hex'),
        '-in',
        ptFile,
        '-out',
        outFile,
      ]);
      const theirs = readFileSync(outFile);
      expect(sm4CbcDecrypt(KEY, iv, theirs).equals(plain)).toBe(true);
      expect(sm4CbcEncrypt(KEY, plain, iv).ciphertext.equals(theirs)).toBe(true);
    } finally {
      dir.remove();
    }
  });
});
