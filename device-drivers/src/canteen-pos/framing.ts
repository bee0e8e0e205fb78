import { DriverError } from '../driver-error.ts';
import { crc16 } from './crc16.ts';

/**
 * Canteen POS link layer (docs/protocols/canteen-pos.md §2):
 *
 *   STX 0x02 | address | seq | command | length (u16 BE) | body (length bytes) | CRC-16 (u16 BE) | ETX 0x03
 *
 * Length-based, no byte stuffing: the body is binary TLV and stuffing would make every frame's size
 * data-dependent. The CRC covers address..body (everything between STX and the CRC). Resync is by
 * scanning for the next STX after any damaged candidate, so junk and lost bytes cost at most the frame
 * they hit. The parser is pure (bytes in, frames and typed errors out): the driver owns the timers.
 */
export const STX = 0x02;
export const ETX = 0x03;
/** STX, address, seq, command, length hi, length lo. */
export const HEADER_LENGTH = 6;
/** CRC hi, CRC lo, ETX. */
export const TRAILER_LENGTH = 3;
/** Largest body a receiver accepts: bounds the buffer, and how long a bogus length can stall resync. */
export const MAX_BODY_LENGTH = 4096;
export const MAX_FRAME_LENGTH = HEADER_LENGTH + MAX_BODY_LENGTH + TRAILER_LENGTH;
export const BROADCAST_ADDRESS = 0xff;

export interface Frame {
  kind: 'frame';
  /** Terminal address 0x00..0xFE (0xFF broadcast, box→terminal only). Always the terminal's, both directions. */
  address: number;
  /** Sender's frame sequence number 0..255, wraps; ACK/NAK echo the seq of the frame they answer. */
  seq: number;
  command: number;
  body: Buffer;
}

export type FrameErrorCode =
  | 'POS_FRAME_CRC'
  | 'POS_FRAME_LENGTH'
  | 'POS_FRAME_ETX'
  | 'POS_FRAME_TRUNCATED'
  | 'POS_FRAME_JUNK';

export interface FrameError {
  kind: 'frame-error';
  code: FrameErrorCode;
  detail: string;
  /** Bytes dropped because of this error (the damaged candidate plus what was skipped to resync). */
  discarded: number;
}

export interface FrameParser {
  /** Feeds received bytes in any chunking; returns every frame and error completed by them, in order. Never throws. */
  push(bytes: Uint8Array): Array<Frame | FrameError>;
  /**
   * The line went idle (the driver's inter-byte timer): whatever is buffered can never complete, so it
   * is reported as POS_FRAME_TRUNCATED and dropped.
   */
  flush(): FrameError[];
  /** Bytes held waiting for the rest of a frame. */
  readonly buffered: number;
}

export interface FrameFields {
  address: number;
  seq: number;
  command: number;
  body: Uint8Array;
}

function checkByte(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xff) {
    throw new DriverError('POS_FIELD_INVALID', `frame ${name} must be an integer 0..255, got ${value}`);
  }
}

export function encodeFrame(frame: FrameFields): Buffer {
  checkByte('address', frame.address);
  checkByte('seq', frame.seq);
  checkByte('command', frame.command);
  const length = frame.body.length;
  if (length > MAX_BODY_LENGTH) {
    throw new DriverError(
      'POS_FRAME_LENGTH',
      `frame body is ${length} bytes; the maximum is ${MAX_BODY_LENGTH}`,
    );
  }
  const out = Buffer.allocUnsafe(HEADER_LENGTH + length + TRAILER_LENGTH);
  out[0] = STX;
  out[1] = frame.address;
  out[2] = frame.seq;
  out[3] = frame.command;
  out.writeUInt16BE(length, 4);
  out.set(frame.body, HEADER_LENGTH);
  out.writeUInt16BE(crc16(out, 1, HEADER_LENGTH + length), HEADER_LENGTH + length);
  out[HEADER_LENGTH + length + 2] = ETX;
  return out;
}

type Candidate = { status: 'frame'; frame: Frame; size: number } | { status: 'incomplete' } | FrameError;

/** Judges the candidate frame starting with the STX at `at`. */
function examine(buf: Buffer, at: number): Candidate {
  const available = buf.length - at;
  if (available < HEADER_LENGTH) return { status: 'incomplete' };
  const length = buf.readUInt16BE(at + 4);
  if (length > MAX_BODY_LENGTH) {
    return {
      kind: 'frame-error',
      code: 'POS_FRAME_LENGTH',
      detail: `length field ${length} exceeds ${MAX_BODY_LENGTH}`,
      discarded: 1,
    };
  }
  const size = HEADER_LENGTH + length + TRAILER_LENGTH;
  if (available < size) return { status: 'incomplete' };
  if (buf[at + size - 1] !== ETX) {
    return {
      kind: 'frame-error',
      code: 'POS_FRAME_ETX',
      detail: 'no ETX where the length field puts it',
      discarded: 1,
    };
  }
  const expected = crc16(buf, at + 1, at + HEADER_LENGTH + length);
  const received = buf.readUInt16BE(at + HEADER_LENGTH + length);
  if (expected !== received) {
    return {
      kind: 'frame-error',
      code: 'POS_FRAME_CRC',
      detail: `CRC ${hex4(received)} received, ${hex4(expected)} computed`,
      discarded: 1,
    };
  }
  const frame: Frame = {
    kind: 'frame',
    address: buf[at + 1]!,
    seq: buf[at + 2]!,
    command: buf[at + 3]!,
    body: Buffer.from(buf.subarray(at + HEADER_LENGTH, at + HEADER_LENGTH + length)),
  };
  return { status: 'frame', frame, size };
}

function hex4(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}

/**
 * A candidate that is still incomplete may be a frame whose tail was lost. If a complete, valid frame
 * already starts at a later STX, the earlier one was truncated: frames never overlap. Returns that
 * later offset, or -1. Checking ETX before the CRC keeps this cheap on junk.
 */
function laterValidFrame(buf: Buffer, from: number): number {
  let at = buf.indexOf(STX, from);
  while (at !== -1) {
    const c = examine(buf, at);
    if ('status' in c && c.status === 'frame') return at;
    at = buf.indexOf(STX, at + 1);
  }
  return -1;
}

export function createFrameParser(): FrameParser {
  let buf: Buffer = Buffer.alloc(0);

  return {
    get buffered() {
      return buf.length;
    },
    push(bytes) {
      const out: Array<Frame | FrameError> = [];
      buf = buf.length === 0 ? Buffer.from(bytes) : Buffer.concat([buf, bytes]);
      let pos = 0;
      // Bytes skipped while resyncing after an error belong to that error, not to a new JUNK report:
      // one damaged frame should read as one error in the log.
      let lastError: FrameError | null = null;
      let junk = 0;
      const skip = (n: number) => {
        if (lastError) lastError.discarded += n;
        else junk += n;
        pos += n;
      };
      const reportJunk = () => {
        if (junk > 0) {
          out.push({
            kind: 'frame-error',
            code: 'POS_FRAME_JUNK',
            detail: `${junk} bytes outside any frame`,
            discarded: junk,
          });
          junk = 0;
        }
      };
      for (;;) {
        const stx = buf.indexOf(STX, pos);
        if (stx === -1) {
          skip(buf.length - pos);
          break;
        }
        skip(stx - pos);
        const c = examine(buf, pos);
        if ('kind' in c) {
          // A false start found while resyncing (an STX inside the damaged frame's body) is part of
          // the same damage: one hit on the line reads as one error, with the first cause.
          if (lastError) lastError.discarded += 1;
          else {
            reportJunk();
            out.push(c);
            lastError = c;
          }
          pos += 1;
          continue;
        }
        if (c.status === 'frame') {
          reportJunk();
          out.push(c.frame);
          lastError = null;
          pos += c.size;
          continue;
        }
        const later = laterValidFrame(buf, pos + 1);
        if (later === -1) break;
        reportJunk();
        const truncated: FrameError = {
          kind: 'frame-error',
          code: 'POS_FRAME_TRUNCATED',
          detail: 'frame cut short: the next frame started before it was complete',
          discarded: later - pos,
        };
        out.push(truncated);
        lastError = null;
        pos = later;
      }
      reportJunk();
      buf = pos >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(pos));
      return out;
    },
    flush() {
      if (buf.length === 0) return [];
      const error: FrameError = {
        kind: 'frame-error',
        code: 'POS_FRAME_TRUNCATED',
        detail: `line idle with ${buf.length} bytes of an incomplete frame`,
        discarded: buf.length,
      };
      buf = Buffer.alloc(0);
      return [error];
    },
  };
}

/** Narrowing helper for consumers of `push()`. */
export function isFrame(item: Frame | FrameError): item is Frame {
  return item.kind === 'frame';
}
