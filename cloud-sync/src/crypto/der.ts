/**
 * The few DER (X.690) shapes SM2 needs: INTEGER, OCTET STRING, BIT STRING, OBJECT IDENTIFIER,
 * SEQUENCE and context tags. Written by hand because the structures are fixed templates
 * (GM/T 0009 SM2Signature / SM2Cipher, SEC1, PKCS#8, SPKI) and because the sm-crypto-v2 decoder
 * is lenient: it accepts trailing bytes and non-minimal integers, which would make signatures
 * malleable and garbage hard to reject. This reader is strict: definite lengths in minimal form,
 * no trailing bytes, and it throws `DerError` (callers map it to their own error code).
 */
export class DerError extends Error {
  override readonly name = 'DerError';
}

export const TAG = {
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  sequence: 0x30,
} as const;

export interface DerNode {
  tag: number;
  /** The content octets (V of TLV). */
  value: Buffer;
}

function encodeLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, value: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(value.length), value]);
}

export function derSequence(...children: Uint8Array[]): Buffer {
  return tlv(TAG.sequence, Buffer.concat(children));
}

/** Unsigned big-endian magnitude as a minimal DER INTEGER (a 00 byte when the high bit is set). */
export function derUnsignedInteger(magnitude: Uint8Array): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  let body = Buffer.from(magnitude.subarray(i));
  if (body.length === 0) body = Buffer.from([0]);
  if ((body[0] ?? 0) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return tlv(TAG.integer, body);
}

export function derBigInt(n: bigint): Buffer {
  if (n < 0n) throw new DerError('negative integers are not used here');
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return derUnsignedInteger(Buffer.from(hex, 'hex'));
}

export function derOid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => Number.parseInt(a, 10));
  const [a0 = 0, a1 = 0, ...rest] = arcs;
  const out: number[] = [a0 * 40 + a1];
  for (const arc of rest) {
    const groups: number[] = [];
    let v = arc;
    do {
      groups.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    for (let i = 0; i < groups.length - 1; i++) groups[i] = (groups[i] ?? 0) | 0x80;
    out.push(...groups);
  }
  return tlv(TAG.oid, Buffer.from(out));
}

/** Reads exactly one TLV at `offset`; returns the node and the offset after it. */
export function readTlv(buf: Uint8Array, offset: number): { node: DerNode; next: number } {
  const tag = buf[offset];
  if (tag === undefined) throw new DerError(`expected a TLV at offset ${offset}, found end of data`);
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used here');
  const first = buf[offset + 1];
  if (first === undefined) throw new DerError('truncated length');
  let length: number;
  let pos = offset + 2;
  if (first < 0x80) {
    length = first;
  } else {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw new DerError('indefinite or oversized length');
    length = 0;
    for (let i = 0; i < count; i++) {
      const b = buf[pos++];
      if (b === undefined) throw new DerError('truncated length');
      length = length * 256 + b;
    }
    if (length < 0x80 || (count > 1 && buf[offset + 2] === 0)) throw new DerError('non-minimal length');
  }
  const end = pos + length;
  if (end > buf.length) throw new DerError('value runs past the end of data');
  return { node: { tag, value: Buffer.from(buf.subarray(pos, end)) }, next: end };
}

/** Parses a whole buffer as one TLV of the expected tag, refusing trailing bytes. */
export function readOnly(buf: Uint8Array, tag: number): DerNode {
  const { node, next } = readTlv(buf, 0);
  if (node.tag !== tag)
    throw new DerError(`expected tag 0x${tag.toString(16)}, found 0x${node.tag.toString(16)}`);
  if (next !== buf.length) throw new DerError('trailing bytes after the DER value');
  return node;
}

/** The children of a constructed value (SEQUENCE or context tag). */
export function readChildren(value: Uint8Array): DerNode[] {
  const out: DerNode[] = [];
  let off = 0;
  while (off < value.length) {
    const { node, next } = readTlv(value, off);
    out.push(node);
    off = next;
  }
  return out;
}

/** A non-negative DER INTEGER in minimal form, as a bigint. */
export function integerValue(node: DerNode | undefined): bigint {
  if (!node || node.tag !== TAG.integer) throw new DerError('expected INTEGER');
  const v = node.value;
  if (v.length === 0) throw new DerError('empty INTEGER');
  if ((v[0] ?? 0) & 0x80) throw new DerError('negative INTEGER');
  if (v.length > 1 && v[0] === 0 && !((v[1] ?? 0) & 0x80)) throw new DerError('non-minimal INTEGER');
  return v.length === 0 ? 0n : BigInt(`0x${v.toString('hex')}`);
}

export function expectTag(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (!node || node.tag !== tag) throw new DerError(`expected ${what}`);
  return node;
}

export function bigintToHex32(n: bigint): string {
  return n.toString(16).padStart(64, '0');
}
