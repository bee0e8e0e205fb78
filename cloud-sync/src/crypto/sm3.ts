import { hash } from 'node:crypto';

/**
 * SM3 (GB/T 32905) from Node's OpenSSL: the fastest SM3 available to us (see docs/decisions.md).
 * One-shot `crypto.hash` (Node ≥ 20.12) skips the Hash object: ~1.1 µs instead of ~2.1 µs for a
 * 300-byte record, and the chain hashes every record on both sides.
 */
export function sm3(data: Uint8Array | string): Buffer {
  return hash('sm3', data, 'buffer');
}

export function sm3Hex(data: Uint8Array | string): string {
  return hash('sm3', data, 'hex');
}
