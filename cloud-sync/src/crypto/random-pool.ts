import { randomFillSync } from 'node:crypto';

/**
 * Cryptographically random bytes handed out from a pool refilled 64 KiB at a time. A batch or a group
 * commit takes two 16-byte values (salt, IV) per record; one getrandom call per record was a measurable
 * share of the batch build. Each value is copied out and the pool bytes are never handed out twice.
 */
const POOL_BYTES = 64 * 1024;
const pool = Buffer.alloc(POOL_BYTES);
let offset = POOL_BYTES;

export function randomBytesFromPool(length: number): Buffer {
  if (length > POOL_BYTES / 4) return randomFillSync(Buffer.alloc(length));
  if (offset + length > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + length));
  // Wipe what was handed out, so the pool never holds a copy of a salt or IV in use.
  pool.fill(0, offset, offset + length);
  offset += length;
  return out;
}
