import { DriverError } from '../driver-error.ts';
import { nameOf, Tag } from './messages.ts';

/**
 * TLV body: tag (1 byte) | length (u16 BE) | value, repeated. Integers are big-endian and fixed-size
 * per tag (docs/protocols/canteen-pos.md §6), so a reader never guesses a width. Constructed tags
 * (RECORD, RECORD_RESULT, PRICE_ITEM) hold a nested TLV body.
 */
export interface TlvField {
  tag: number;
  value: Buffer;
}

export function parseTlv(body: Uint8Array): TlvField[] {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.length);
  const fields: TlvField[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < 3) {
      throw new DriverError('POS_TLV_MALFORMED', `TLV header cut short at offset ${at} of ${buf.length}`);
    }
    const tag = buf[at]!;
    const length = buf.readUInt16BE(at + 1);
    if (at + 3 + length > buf.length) {
      throw new DriverError(
        'POS_TLV_MALFORMED',
        `TLV tag 0x${tag.toString(16)} claims ${length} bytes at offset ${at}, body has ${buf.length - at - 3}`,
      );
    }
    fields.push({ tag, value: buf.subarray(at + 3, at + 3 + length) });
    at += 3 + length;
  }
  return fields;
}

function tagName(tag: number): string {
  return String(nameOf(Tag, tag) ?? `0x${tag.toString(16)}`);
}

function invalid(tag: number, why: string): DriverError {
  return new DriverError('POS_FIELD_INVALID', `${tagName(tag)}: ${why}`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Typed access to one TLV level. Unknown tags are ignored (forward compatibility); a known scalar tag twice is malformed. */
export class TlvReader {
  private readonly byTag = new Map<number, Buffer>();
  constructor(
    readonly fields: TlvField[],
    private readonly context: string,
  ) {
    for (const f of fields) {
      if (!isRepeatable(f.tag) && this.byTag.has(f.tag)) {
        throw new DriverError('POS_TLV_MALFORMED', `${context}: tag ${tagName(f.tag)} appears twice`);
      }
      this.byTag.set(f.tag, f.value);
    }
  }

  static of(body: Uint8Array, context: string): TlvReader {
    return new TlvReader(parseTlv(body), context);
  }

  has(tag: number): boolean {
    return this.byTag.has(tag);
  }

  private raw(tag: number): Buffer {
    const value = this.byTag.get(tag);
    if (!value)
      throw new DriverError('POS_FIELD_MISSING', `${this.context}: required field ${tagName(tag)} missing`);
    return value;
  }

  private fixed(tag: number, size: number): Buffer {
    const value = this.raw(tag);
    if (value.length !== size) throw invalid(tag, `expected ${size} bytes, got ${value.length}`);
    return value;
  }

  u8(tag: number): number {
    return this.fixed(tag, 1)[0]!;
  }
  u16(tag: number): number {
    return this.fixed(tag, 2).readUInt16BE(0);
  }
  i16(tag: number): number {
    return this.fixed(tag, 2).readInt16BE(0);
  }
  u32(tag: number): number {
    return this.fixed(tag, 4).readUInt32BE(0);
  }
  /** u64 on the wire; values past 2^53 cannot be a time in ms this millennium, so they are refused. */
  u64(tag: number): number {
    const v = this.fixed(tag, 8).readBigUInt64BE(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(tag, 'exceeds 2^53-1');
    return Number(v);
  }
  bytes(tag: number, min: number, max: number): Buffer {
    const value = this.raw(tag);
    if (value.length < min || value.length > max)
      throw invalid(tag, `length ${value.length} outside ${min}..${max}`);
    return value;
  }
  text(tag: number, min: number, max: number): string {
    const value = this.bytes(tag, min, max);
    try {
      return utf8.decode(value);
    } catch (cause) {
      throw new DriverError('POS_FIELD_INVALID', `${tagName(tag)}: not valid UTF-8`, { cause });
    }
  }
  /** Printable ASCII 0x21..0x7E only: QR tokens and firmware versions must survive any display and log masker. */
  ascii(tag: number, min: number, max: number): string {
    const value = this.bytes(tag, min, max);
    for (const b of value) if (b < 0x21 || b > 0x7e) throw invalid(tag, 'not printable ASCII');
    return value.toString('latin1');
  }
  all(tag: number): Buffer[] {
    return this.fields.filter((f) => f.tag === tag).map((f) => f.value);
  }
  optional<T>(tag: number, read: (tag: number) => T): T | undefined {
    return this.has(tag) ? read.call(this, tag) : undefined;
  }
}

function isRepeatable(tag: number): boolean {
  return tag === Tag.RECORD || tag === Tag.RECORD_RESULT || tag === Tag.PRICE_ITEM;
}

/** Builds a TLV body; range-checks every value so a bad message never reaches the wire. */
export class TlvWriter {
  private readonly parts: Buffer[] = [];

  private put(tag: number, value: Buffer): this {
    if (value.length > 0xffff) throw invalid(tag, 'value longer than 65535 bytes');
    const head = Buffer.allocUnsafe(3);
    head[0] = tag;
    head.writeUInt16BE(value.length, 1);
    this.parts.push(head, value);
    return this;
  }

  private int(tag: number, value: number, min: number, max: number, size: number, signed = false): this {
    if (!Number.isSafeInteger(value) || value < min || value > max) {
      throw invalid(tag, `${value} is not an integer in ${min}..${max}`);
    }
    const b = Buffer.allocUnsafe(size);
    if (size === 8) b.writeBigUInt64BE(BigInt(value));
    else if (signed) b.writeIntBE(value, 0, size);
    else b.writeUIntBE(value, 0, size);
    return this.put(tag, b);
  }

  u8(tag: number, value: number): this {
    return this.int(tag, value, 0, 0xff, 1);
  }
  u16(tag: number, value: number): this {
    return this.int(tag, value, 0, 0xffff, 2);
  }
  i16(tag: number, value: number): this {
    return this.int(tag, value, -0x8000, 0x7fff, 2, true);
  }
  u32(tag: number, value: number): this {
    return this.int(tag, value, 0, 0xffffffff, 4);
  }
  u64(tag: number, value: number): this {
    return this.int(tag, value, 0, Number.MAX_SAFE_INTEGER, 8);
  }
  bytes(tag: number, value: Uint8Array, min: number, max: number): this {
    if (value.length < min || value.length > max)
      throw invalid(tag, `length ${value.length} outside ${min}..${max}`);
    return this.put(tag, Buffer.from(value));
  }
  text(tag: number, value: string, min: number, max: number): this {
    return this.bytes(tag, Buffer.from(value, 'utf8'), min, max);
  }
  ascii(tag: number, value: string, min: number, max: number): this {
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c < 0x21 || c > 0x7e) throw invalid(tag, 'not printable ASCII');
    }
    return this.bytes(tag, Buffer.from(value, 'latin1'), min, max);
  }
  /** Already-encoded TLV fields, appended as they are (a record's signed fields, a MAC'd body). */
  raw(fields: Uint8Array): this {
    this.parts.push(Buffer.from(fields));
    return this;
  }
  nested(tag: number, inner: TlvWriter): this {
    return this.put(tag, inner.toBuffer());
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}
