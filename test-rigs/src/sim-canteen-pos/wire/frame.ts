import { MAX_BODY_LENGTH } from './codes.ts';
import { crc16CcittFalse } from './crc16.ts';

/**
 * The frame of docs/protocols/canteen-pos.md §2: STX ADDR SEQ CMD LEN(u16) BODY CRC(u16) ETX, and the
 * receiver of §2.2 step by step. Pure: bytes in, frames out, never throws; the caller owns timers.
 */
export const STX = 0x02;
export const ETX = 0x03;
export const HEADER_BYTES = 6;
export const TRAILER_BYTES = 3;

export interface WireFrame {
  address: number;
  seq: number;
  command: number;
  body: Buffer;
}

export function encodeWireFrame(frame: WireFrame): Buffer {
  for (const [name, v] of [
    ['address', frame.address],
    ['seq', frame.seq],
    ['command', frame.command],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`frame ${name} ${v} is not a byte`);
  }
  if (frame.body.length > MAX_BODY_LENGTH) {
    throw new RangeError(`frame body of ${frame.body.length} bytes exceeds ${MAX_BODY_LENGTH}`);
  }
  const out = Buffer.alloc(HEADER_BYTES + frame.body.length + TRAILER_BYTES);
  out[0] = STX;
  out[1] = frame.address;
  out[2] = frame.seq;
  out[3] = frame.command;
  out.writeUInt16BE(frame.body.length, 4);
  frame.body.copy(out, HEADER_BYTES);
  const crcAt = HEADER_BYTES + frame.body.length;
  out.writeUInt16BE(crc16CcittFalse(out, 1, crcAt), crcAt);
  out[crcAt + 2] = ETX;
  return out;
}

export interface WireParser {
  /** Feeds bytes in any chunking; returns the frames they complete. */
  push(bytes: Uint8Array): WireFrame[];
  /** The line went idle (§2.2 step 4): drop an incomplete frame. */
  idle(): void;
  /** Candidates dropped so far (bad LEN, ETX or CRC) and bytes skipped outside any frame. */
  readonly dropped: number;
  readonly buffered: number;
}

export function createWireParser(): WireParser {
  let buf = Buffer.alloc(0);
  let dropped = 0;
  return {
    get dropped() {
      return dropped;
    },
    get buffered() {
      return buf.length;
    },
    idle() {
      if (buf.length > 0) dropped++;
      buf = Buffer.alloc(0);
    },
    push(bytes) {
      buf = Buffer.concat([buf, bytes]);
      const frames: WireFrame[] = [];
      let at = 0;
      for (;;) {
        // 1. Discard bytes until an STX.
        const stx = buf.indexOf(STX, at);
        if (stx === -1) {
          if (at < buf.length) dropped++;
          at = buf.length;
          break;
        }
        if (stx > at) dropped++;
        at = stx;
        // 2. The header; a LEN above the maximum means this STX was not a frame start.
        if (buf.length - at < HEADER_BYTES) break;
        const length = buf.readUInt16BE(at + 4);
        if (length > MAX_BODY_LENGTH) {
          dropped++;
          at += 1;
          continue;
        }
        // 3. The rest; a bad ETX or CRC drops only the STX, and the scan goes on from the next byte.
        const size = HEADER_BYTES + length + TRAILER_BYTES;
        if (buf.length - at < size) break;
        const crcAt = at + HEADER_BYTES + length;
        if (buf[at + size - 1] !== ETX || crc16CcittFalse(buf, at + 1, crcAt) !== buf.readUInt16BE(crcAt)) {
          dropped++;
          at += 1;
          continue;
        }
        frames.push({
          address: buf[at + 1]!,
          seq: buf[at + 2]!,
          command: buf[at + 3]!,
          body: Buffer.from(buf.subarray(at + HEADER_BYTES, crcAt)),
        });
        at += size;
      }
      buf = Buffer.from(buf.subarray(at));
      return frames;
    },
  };
}
