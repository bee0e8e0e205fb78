import { nameOf, Tag } from './codes.ts';
import { WireError } from './wire-error.ts';

/**
 * TLV bodies (docs/protocols/canteen-pos.md §6): tag u8 | length u16 | value. Fixed integer widths per
 * tag, unknown tags ignored, a scalar tag at most once per level, RECORD / RECORD_RESULT / PRICE_ITEM
 * repeat and nest one level.
 */
export interface TlvItem {
  tag: number;
  value: Buffer;
  /** Offset of the tag byte in the body: MACs cover bytes "before a field", so the reader keeps where. */
  at: number;
}

const REPEATABLE: ReadonlySet<number> = new Set([Tag.RECORD, Tag.RECORD_RESULT, Tag.PRICE_ITEM]);

const tagName = (tag: number) => String(nameOf(Tag, tag) ?? `0x${tag.toString(16).padStart(2, '0')}`);

export function splitTlv(body: Buffer): TlvItem[] {
  const items: TlvItem[] = [];
  let at = 0;
  while (at < body.length) {
    if (body.length - at < 3) throw new WireError('TLV_MALFORMED', `TLV header cut short at offset ${at}`);
    const tag = body[at]!;
    const length = body.readUInt16BE(at + 1);
    if (at + 3 + length > body.length) {
      throw new WireError('TLV_MALFORMED', `${tagName(tag)} claims ${length} bytes past the body's end`);
    }
    items.push({ tag, value: body.subarray(at + 3, at + 3 + length), at });
    at += 3 + length;
  }
  return items;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class TlvFields {
  private readonly one = new Map<number, Buffer>();

  constructor(
    readonly items: TlvItem[],
    private readonly where: string,
  ) {
    for (const item of items) {
      if (!REPEATABLE.has(item.tag) && this.one.has(item.tag)) {
        throw new WireError('TLV_MALFORMED', `${where}: ${tagName(item.tag)} appears twice`);
      }
      this.one.set(item.tag, item.value);
    }
  }

  static parse(body: Buffer, where: string): TlvFields {
    return new TlvFields(splitTlv(body), where);
  }

  has(tag: number): boolean {
    return this.one.has(tag);
  }

  raw(tag: number): Buffer {
    const v = this.one.get(tag);
    if (v === undefined) throw new WireError('FIELD_MISSING', `${this.where}: ${tagName(tag)} is required`);
    return v;
  }

  private width(tag: number, n: number): Buffer {
    const v = this.raw(tag);
    if (v.length !== n)
      throw new WireError('FIELD_INVALID', `${tagName(tag)} must be ${n} bytes, is ${v.length}`);
    return v;
  }

  /** An unsigned integer of the tag's width, within [min, max]. */
  uint(tag: number, bytes: 1 | 2 | 4, min = 0, max = 2 ** (8 * bytes) - 1): number {
    const n = this.width(tag, bytes).readUIntBE(0, bytes);
    if (n < min || n > max)
      throw new WireError('FIELD_INVALID', `${tagName(tag)} ${n} is outside ${min}..${max}`);
    return n;
  }

  i16(tag: number): number {
    return this.width(tag, 2).readInt16BE(0);
  }

  u64(tag: number): number {
    const v = this.width(tag, 8).readBigUInt64BE(0);
    if (v > BigInt(Number.MAX_SAFE_INTEGER))
      throw new WireError('FIELD_INVALID', `${tagName(tag)} exceeds 2^53-1`);
    return Number(v);
  }

  bytes(tag: number, min: number, max: number): Buffer {
    const v = this.raw(tag);
    if (v.length < min || v.length > max) {
      throw new WireError('FIELD_INVALID', `${tagName(tag)} length ${v.length} is outside ${min}..${max}`);
    }
    return Buffer.from(v);
  }

  text(tag: number, max: number): string {
    const v = this.bytes(tag, 0, max);
    try {
      return utf8.decode(v);
    } catch {
      throw new WireError('FIELD_INVALID', `${tagName(tag)} is not UTF-8`);
    }
  }

  ascii(tag: number, min: number, max: number): string {
    const v = this.bytes(tag, min, max);
    if (v.some((b) => b < 0x21 || b > 0x7e))
      throw new WireError('FIELD_INVALID', `${tagName(tag)} is not printable ASCII`);
    return v.toString('latin1');
  }

  all(tag: number): TlvItem[] {
    return this.items.filter((i) => i.tag === tag);
  }
}

/** Builds a body; refuses values the document does not allow, so the simulator never sends them by accident. */
export class TlvBuilder {
  private readonly parts: Buffer[] = [];

  field(tag: number, value: Uint8Array): this {
    if (value.length > 0xffff) throw new RangeError(`${tagName(tag)}: value longer than 65535 bytes`);
    const head = Buffer.alloc(3);
    head[0] = tag;
    head.writeUInt16BE(value.length, 1);
    this.parts.push(head, Buffer.from(value));
    return this;
  }

  uint(tag: number, bytes: 1 | 2 | 4 | 8, value: number): this {
    if (
      !Number.isSafeInteger(value) ||
      value < 0 ||
      value > Math.min(2 ** (8 * bytes) - 1, Number.MAX_SAFE_INTEGER)
    ) {
      throw new RangeError(`${tagName(tag)}: ${value} does not fit ${bytes} unsigned bytes`);
    }
    const b = Buffer.alloc(bytes);
    if (bytes === 8) b.writeBigUInt64BE(BigInt(value));
    else b.writeUIntBE(value, 0, bytes);
    return this.field(tag, b);
  }

  i16(tag: number, value: number): this {
    if (!Number.isInteger(value) || value < -0x8000 || value > 0x7fff)
      throw new RangeError(`${tagName(tag)}: ${value} is not an i16`);
    const b = Buffer.alloc(2);
    b.writeInt16BE(value);
    return this.field(tag, b);
  }

  text(tag: number, value: string): this {
    return this.field(tag, Buffer.from(value, 'utf8'));
  }

  nested(tag: number, inner: TlvBuilder | Buffer): this {
    return this.field(tag, Buffer.isBuffer(inner) ? inner : inner.build());
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}
