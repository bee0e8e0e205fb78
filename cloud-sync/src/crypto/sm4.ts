import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SyncError } from '../sync-error.ts';
import { randomBytesFromPool } from './random-pool.ts';

/**
 * SM4 (GB/T 32907-2016) through Node's OpenSSL 3 ('sm4-cbc', 'sm4-ecb'): several times faster than
 * the pure-JS ciphers (bench/crypto.bench.ts) and the same code path the `openssl enc -sm4-cbc`
 * interop test checks. CBC with PKCS#7 padding is what OpenSSL, GmSSL and BouncyCastle default to,
 * so a bank can decrypt with any of them. Used for personal data in batches (004 §5.1.4 a).
 */
export const SM4_KEY_BYTES = 16;
export const SM4_BLOCK_BYTES = 16;

export function checkSm4Key(key: Uint8Array): void {
  if (key.length !== SM4_KEY_BYTES) {
    throw new SyncError('CRYPTO_SM4_KEY', `SM4 key must be ${SM4_KEY_BYTES} bytes, got ${key.length}`);
  }
}

function checkIv(iv: Uint8Array): void {
  if (iv.length !== SM4_BLOCK_BYTES) {
    throw new SyncError('CRYPTO_SM4_IV', `SM4-CBC IV must be ${SM4_BLOCK_BYTES} bytes, got ${iv.length}`);
  }
}

export function generateSm4Key(): Buffer {
  return randomBytes(SM4_KEY_BYTES);
}

/** Encrypts with a fresh random IV unless one is given (a given IV is for test vectors only). */
export function sm4CbcEncrypt(
  key16: Uint8Array,
  plaintext: Uint8Array,
  iv: Uint8Array = randomBytesFromPool(SM4_BLOCK_BYTES),
): { iv: Buffer; ciphertext: Buffer } {
  checkSm4Key(key16);
  checkIv(iv);
  const cipher = createCipheriv('sm4-cbc', key16, iv);
  return { iv: Buffer.from(iv), ciphertext: Buffer.concat([cipher.update(plaintext), cipher.final()]) };
}

/** Throws SyncError 'CRYPTO_SM4_DECRYPT' on a wrong key, wrong IV or corrupted data (bad padding). */
export function sm4CbcDecrypt(key16: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Buffer {
  checkSm4Key(key16);
  checkIv(iv);
  if (ciphertext.length === 0 || ciphertext.length % SM4_BLOCK_BYTES !== 0) {
    throw new SyncError(
      'CRYPTO_SM4_DECRYPT',
      `SM4-CBC ciphertext length ${ciphertext.length} is not a whole number of blocks`,
    );
  }
  try {
    const decipher = createDecipheriv('sm4-cbc', key16, iv);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  } catch (cause) {
    throw new SyncError(
      'CRYPTO_SM4_DECRYPT',
      'SM4-CBC decryption failed (wrong key or corrupted data)',
      undefined,
      {
        cause,
      },
    );
  }
}

/** Raw ECB without padding: only for the GB/T 32907 block test vectors, never for data. */
export function sm4EcbEncrypt(key16: Uint8Array, blocks: Uint8Array): Buffer {
  checkSm4Key(key16);
  const cipher = createCipheriv('sm4-ecb', key16, null).setAutoPadding(false);
  return Buffer.concat([cipher.update(blocks), cipher.final()]);
}

export function sm4EcbDecrypt(key16: Uint8Array, blocks: Uint8Array): Buffer {
  checkSm4Key(key16);
  const decipher = createDecipheriv('sm4-ecb', key16, null).setAutoPadding(false);
  return Buffer.concat([decipher.update(blocks), decipher.final()]);
}
