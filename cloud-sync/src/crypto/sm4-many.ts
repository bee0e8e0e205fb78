import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { SyncErrorCode } from '@sceneway/core';
import { SyncError } from '../sync-error.ts';
import { randomBytesFromPool } from './random-pool.ts';
import { checkSm4Key, SM4_BLOCK_BYTES } from './sm4.ts';

/**
 * SM4-CBC with PKCS#7 over many small items (a batch's or a commit group's personal data) in ONE
 * OpenSSL call instead of one cipher object per item: a cipher object costs ~9–15 µs, the data itself
 * ~1 µs (measured; docs/decisions.md D13). Each item's result is an ordinary, independently
 * decryptable SM4-CBC-PKCS#7 ciphertext with its own IV, so nothing changes for whoever opens it.
 */
export interface Sm4Sealed {
  iv: Buffer;
  ciphertext: Buffer;
}

/** A failure that names the item (by its index in the call) it is about. */
export class Sm4ItemError extends SyncError {
  constructor(
    readonly itemIndex: number,
    code: SyncErrorCode,
    message: string,
  ) {
    super(code, `item ${itemIndex}: ${message}`);
  }
}

function padded(plaintext: Uint8Array): Buffer {
  const pad = SM4_BLOCK_BYTES - (plaintext.length % SM4_BLOCK_BYTES);
  const out = Buffer.allocUnsafe(plaintext.length + pad);
  out.set(plaintext, 0);
  out.fill(pad, plaintext.length);
  return out;
}

/**
 * Encrypts the items as one CBC stream under a fresh random IV. Item k's IV is then the last
 * ciphertext block before it, which is exactly what CBC chains with: item k alone is
 * SM4-CBC(key, iv_k, pkcs7(item_k)). The IVs are unpredictable when any item is chosen, because the
 * whole stream is encrypted at once, from a random first IV, before any ciphertext leaves the call
 * (the chained-IV weakness of TLS 1.0 needs the attacker to see an IV before choosing the plaintext).
 */
export function sm4CbcEncryptMany(key16: Uint8Array, plaintexts: readonly Uint8Array[]): Sm4Sealed[] {
  checkSm4Key(key16);
  if (plaintexts.length === 0) return [];
  const firstIv = randomBytesFromPool(SM4_BLOCK_BYTES);
  const blocks = plaintexts.map(padded);
  const cipher = createCipheriv('sm4-cbc', key16, firstIv).setAutoPadding(false);
  const stream = Buffer.concat([cipher.update(Buffer.concat(blocks)), cipher.final()]);
  const out: Sm4Sealed[] = [];
  let at = 0;
  let iv = firstIv;
  for (const block of blocks) {
    const ciphertext = Buffer.from(stream.subarray(at, at + block.length));
    out.push({ iv, ciphertext });
    iv = Buffer.from(ciphertext.subarray(ciphertext.length - SM4_BLOCK_BYTES));
    at += block.length;
  }
  return out;
}

/**
 * Decrypts many independently encrypted items in one call: the stream iv_1‖c_1‖iv_2‖c_2… decrypted as
 * CBC yields every c_k correctly (CBC decrypts each block with the block before it, which is iv_k or
 * c_k's own previous block); the block in iv_k's slot is discarded. Padding is checked per item.
 * Throws Sm4ItemError ('CRYPTO_SM4_DECRYPT') naming the first item that is malformed or does not decrypt.
 */
export function sm4CbcDecryptMany(key16: Uint8Array, items: readonly Sm4Sealed[]): Buffer[] {
  checkSm4Key(key16);
  if (items.length === 0) return [];
  const parts: Uint8Array[] = [];
  items.forEach((item, index) => {
    if (item.iv.length !== SM4_BLOCK_BYTES)
      throw new Sm4ItemError(index, 'CRYPTO_SM4_IV', `SM4-CBC IV must be ${SM4_BLOCK_BYTES} bytes`);
    if (item.ciphertext.length === 0 || item.ciphertext.length % SM4_BLOCK_BYTES !== 0)
      throw new Sm4ItemError(
        index,
        'CRYPTO_SM4_DECRYPT',
        `ciphertext length ${item.ciphertext.length} is not a whole number of blocks`,
      );
    parts.push(item.iv, item.ciphertext);
  });
  const decipher = createDecipheriv('sm4-cbc', key16, Buffer.alloc(SM4_BLOCK_BYTES)).setAutoPadding(false);
  const stream = Buffer.concat([decipher.update(Buffer.concat(parts)), decipher.final()]);
  const out: Buffer[] = [];
  let at = 0;
  items.forEach((item, index) => {
    at += SM4_BLOCK_BYTES;
    const plain = stream.subarray(at, at + item.ciphertext.length);
    at += item.ciphertext.length;
    const pad = plain[plain.length - 1] ?? 0;
    let ok = pad >= 1 && pad <= SM4_BLOCK_BYTES;
    for (let i = plain.length - pad; ok && i < plain.length; i++) ok = plain[i] === pad;
    if (!ok)
      throw new Sm4ItemError(
        index,
        'CRYPTO_SM4_DECRYPT',
        'SM4-CBC decryption failed (wrong key or corrupted data)',
      );
    out.push(Buffer.from(plain.subarray(0, plain.length - pad)));
  });
  stream.fill(0);
  return out;
}
