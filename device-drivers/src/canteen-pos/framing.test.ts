import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DriverError } from '../driver-error.ts';
import { CRC16_CHECK_VALUE, crc16 } from './crc16.ts';
import {
  createFrameParser,
  encodeFrame,
  type Frame,
  type FrameError,
  type FrameFields,
  MAX_BODY_LENGTH,
  STX,
} from './framing.ts';

const FRAME_ERROR_CODES = new Set([
  'POS_FRAME_CRC',
  'POS_FRAME_LENGTH',
  'POS_FRAME_ETX',
  'POS_FRAME_TRUNCATED',
  'POS_FRAME_JUNK',
]);

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Splits bytes at the given cut points (any chunking a serial driver might deliver). */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out;
}

function parseAll(chunks: Buffer[]): Array<Frame | FrameError> {
  const parser = createFrameParser();
  const out = chunks.flatMap((c) => parser.push(c));
  return [...out, ...parser.flush()];
}

const frameFields = fc.record({
  address: fc.integer({ min: 0, max: 255 }),
  seq: fc.integer({ min: 0, max: 255 }),
  command: fc.integer({ min: 0, max: 255 }),
  body: fc.uint8Array({ maxLength: 300 }),
});

const sameFrame = (f: Frame | FrameError | undefined, want: FrameFields) => {
  expect(f?.kind).toBe('frame');
  const frame = f as Frame;
  expect({ ...frame, body: [...frame.body] }).toEqual({ kind: 'frame', ...want, body: [...want.body] });
};

describe('CRC-16/CCITT-FALSE', () => {
  it('has the catalogue check value for "123456789"', () => {
    expect(crc16(Buffer.from('123456789', 'ascii'))).toBe(0x29b1);
    expect(CRC16_CHECK_VALUE).toBe(0x29b1);
  });
  it('starts from 0xFFFF and honours the range form', () => {
    expect(crc16(Buffer.alloc(0))).toBe(0xffff);
    const padded = Buffer.from('xx123456789yy', 'ascii');
    expect(crc16(padded, 2, 11)).toBe(0x29b1);
  });
});

describe('frame encoding', () => {
  it('matches the sale request example of docs/protocols/canteen-pos.md', () => {
    const body = hex('01 00 04 00 00 04 D2 02 00 04 00 00 04 E2 03 00 04 04 A1 B2 C3 05 00 04 69 55 F1 40');
    const frame = encodeFrame({ address: 1, seq: 5, command: 0x41, body });
    expect(frame).toEqual(hex(`02 01 05 41 00 1C ${body.toString('hex')} B6 57 03`));
  });
  it('refuses out-of-range header fields and oversize bodies with DriverError codes', () => {
    expect(() => encodeFrame({ address: 256, seq: 0, command: 0, body: new Uint8Array() })).toThrowError(
      expect.objectContaining({ code: 'POS_FIELD_INVALID' }),
    );
    expect(() =>
      encodeFrame({ address: 1, seq: 0, command: 0, body: new Uint8Array(MAX_BODY_LENGTH + 1) }),
    ).toThrowError(expect.objectContaining({ code: 'POS_FRAME_LENGTH' }));
  });
});

describe('frame parser', () => {
  const good = encodeFrame({ address: 1, seq: 9, command: 0x40, body: hex('14 00 02 00 00') });

  it('reports a damaged CRC and still finds the next frame', () => {
    const bad = Buffer.from(good);
    bad[bad.length - 2] = bad[bad.length - 2]! ^ 0xff;
    const out = parseAll([Buffer.concat([bad, good])]);
    expect(out.map((o) => (o.kind === 'frame' ? 'frame' : o.code))).toEqual(['POS_FRAME_CRC', 'frame']);
    expect((out[0] as FrameError).discarded).toBe(good.length);
  });

  it('reports a length beyond the maximum, a missing ETX and junk, each with a code', () => {
    const tooLong = hex('02 01 01 41 10 01 00 00');
    const noEtx = Buffer.from(good);
    noEtx[noEtx.length - 1] = 0x04;
    const out = parseAll([tooLong, Buffer.from('junk!'), noEtx, good]);
    const codes = out.map((o) => (o.kind === 'frame' ? 'frame' : o.code));
    expect(codes[0]).toBe('POS_FRAME_LENGTH');
    expect(codes).toContain('POS_FRAME_ETX');
    expect(codes.at(-1)).toBe('frame');
  });

  it('drops a frame whose tail was lost once the next frame arrives', () => {
    const long = encodeFrame({ address: 1, seq: 8, command: 0x43, body: Buffer.alloc(60, 0x11) });
    const out = parseAll([long.subarray(0, 10), good]);
    expect(out.map((o) => (o.kind === 'frame' ? 'frame' : o.code))).toEqual(['POS_FRAME_TRUNCATED', 'frame']);
    // A short frame cut off is judged when the next frame completes its length: the ETX is wrong.
    const short = parseAll([good.subarray(0, 8), good]);
    expect(short.map((o) => (o.kind === 'frame' ? 'frame' : o.code))).toEqual(['POS_FRAME_ETX', 'frame']);
  });

  it('reports an incomplete frame on flush (line idle) and forgets it', () => {
    const parser = createFrameParser();
    expect(parser.push(good.subarray(0, 5))).toEqual([]);
    expect(parser.buffered).toBe(5);
    expect(parser.flush()).toEqual([expect.objectContaining({ code: 'POS_FRAME_TRUNCATED', discarded: 5 })]);
    expect(parser.buffered).toBe(0);
    expect(parser.push(good).map((o) => o.kind)).toEqual(['frame']);
  });

  it('round-trips any frame in any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(frameFields, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat()),
        (frames, cuts) => {
          const wire = Buffer.concat(frames.map(encodeFrame));
          const out = parseAll(chunked(wire, cuts));
          expect(out).toHaveLength(frames.length);
          frames.forEach((f, i) => {
            sameFrame(out[i], f);
          });
        },
      ),
    );
  });

  it('recovers every frame from junk that carries no start byte', () => {
    const junk = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a.filter((b) => b !== STX)));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(junk, frameFields), { minLength: 1, maxLength: 4 }),
        junk,
        fc.array(fc.nat()),
        (parts, tail, cuts) => {
          const wire = Buffer.concat([...parts.flatMap(([j, f]) => [j, encodeFrame(f)]), tail]);
          const out = parseAll(chunked(wire, cuts));
          const frames = out.filter((o) => o.kind === 'frame');
          expect(frames).toHaveLength(parts.length);
          parts.forEach(([, f], i) => {
            sameFrame(frames[i], f);
          });
          for (const o of out) if (o.kind !== 'frame') expect(o.code).toBe('POS_FRAME_JUNK');
        },
      ),
    );
  });

  it('never throws on arbitrary bytes and yields only frames and typed errors', () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 600 }),
      // Mostly-valid streams: frames with one byte changed, the hard case for resync.
      fc
        .tuple(
          fc.array(frameFields, { minLength: 1, maxLength: 3 }),
          fc.nat(),
          fc.integer({ min: 0, max: 255 }),
        )
        .map(([frames, at, value]) => {
          const wire = Buffer.concat(frames.map(encodeFrame));
          wire[at % wire.length] = value;
          return new Uint8Array(wire);
        }),
    );
    fc.assert(
      fc.property(bytes, fc.array(fc.nat()), (input, cuts) => {
        const wire = Buffer.from(input);
        const out = parseAll(chunked(wire, cuts));
        let accounted = 0;
        for (const o of out) {
          if (o.kind === 'frame') {
            expect(o.body.length).toBeLessThanOrEqual(MAX_BODY_LENGTH);
            accounted += o.body.length + 9;
          } else {
            expect(FRAME_ERROR_CODES.has(o.code)).toBe(true);
            expect(o.discarded).toBeGreaterThan(0);
            accounted += o.discarded;
          }
        }
        // Every received byte ends up in exactly one frame or one error: nothing silently vanishes.
        expect(accounted).toBe(wire.length);
      }),
    );
  });

  it('is DriverError-only even when encodeFrame is fed nonsense', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer(),
        fc.integer(),
        fc.nat({ max: 5000 }),
        (address, seq, command, size) => {
          try {
            encodeFrame({ address, seq, command, body: new Uint8Array(size) });
          } catch (err) {
            expect(err).toBeInstanceOf(DriverError);
          }
        },
      ),
    );
  });
});
