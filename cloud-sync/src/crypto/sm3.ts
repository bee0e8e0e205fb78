import { createHash } from 'node:crypto';

/** SM3 (GB/T 32905) from Node's OpenSSL: the fastest SM3 available to us (see docs/decisions.md). */
export function sm3(data: Uint8Array | string): Buffer {
  return createHash('sm3').update(data).digest();
}

export function sm3Hex(data: Uint8Array | string): string {
  return createHash('sm3').update(data).digest('hex');
}
