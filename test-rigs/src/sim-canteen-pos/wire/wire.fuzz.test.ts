import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimTerminal } from '../sim-terminal.ts';
import { EXAMPLE_KEY } from './doc-example-values.ts';
import {
  Command,
  createWireParser,
  decodeBody,
  encodeWireFrame,
  openBody,
  STX,
  sealBody,
  sessionKeys,
  splitTlv,
  Tag,
  WireError,
  type WireFrame,
} from './index.ts';

/**
 * The terminal side's own wire code under hostile bytes: whatever the line delivers, in whatever
 * pieces, the parser never throws and finds every intact frame; the message reader fails only with a
 * WireError (which becomes a NAK reason); the MAC check never throws; and a v2 terminal fed any frame
 * from "the box" never throws and never takes a forged money answer.
 */
const frameFields = fc.record({
  address: fc.integer({ min: 0, max: 255 }),
  seq: fc.integer({ min: 0, max: 255 }),
  command: fc.integer({ min: 0, max: 255 }),
  body: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
});

/** Splits bytes at arbitrary points: a serial driver may deliver any chunking. */
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

/** Bodies that look like TLV (mostly known tags), so the reader's deeper paths are reached, not just its first check. */
const tlvBody = fc
  .array(
    fc.record({
      tag: fc.oneof(fc.integer({ min: 0x01, max: 0x2e }), fc.integer({ min: 0, max: 255 })),
      value: fc.oneof(
        fc.uint8Array({ minLength: 0, maxLength: 40 }),
        fc.constantFrom(1, 2, 4, 8, 16, 32).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
      ),
    }),
    { maxLength: 12 },
  )
  .map((fields) =>
    Buffer.concat(
      fields.map((f) =>
        Buffer.concat([
          Buffer.from([f.tag, f.value.length >> 8, f.value.length & 0xff]),
          Buffer.from(f.value),
        ]),
      ),
    ),
  );

const runs = Number(process.env.FUZZ_RUNS ?? 2000);

describe('terminal wire code under fuzz', () => {
  it('the parser never throws on any bytes in any chunking, and holds at most one frame of them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const parser = createWireParser();
        for (const chunk of chunked(Buffer.from(bytes), cuts)) parser.push(chunk);
        expect(parser.buffered).toBeLessThanOrEqual(4105);
        parser.idle();
        expect(parser.buffered).toBe(0);
      }),
      { numRuns: runs },
    );
  });

  it('finds every intact frame between junk, in any chunking', () => {
    const junk = fc.uint8Array({ maxLength: 30 }).map((a) => Buffer.from(a.filter((b) => b !== STX)));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(junk, frameFields), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat()),
        (parts, cuts) => {
          const wire = Buffer.concat(parts.flatMap(([j, f]) => [j, encodeWireFrame(f)]));
          const parser = createWireParser();
          const found = chunked(wire, cuts).flatMap((c) => parser.push(c));
          expect(found.map((f) => encodeWireFrame(f).toString('hex'))).toEqual(
            parts.map(([, f]) => encodeWireFrame(f).toString('hex')),
          );
        },
      ),
      { numRuns: runs / 2 },
    );
  });

  it('never delivers a frame with a byte changed on the line (CRC-16 catches every single-byte error)', () => {
    fc.assert(
      fc.property(frameFields, fc.nat(), fc.integer({ min: 1, max: 255 }), (fields, where, flip) => {
        const wire = encodeWireFrame(fields);
        const at = 1 + (where % (wire.length - 1));
        wire[at] = wire[at]! ^ flip;
        const parser = createWireParser();
        const found = parser.push(wire);
        parser.idle();
        const original = encodeWireFrame(fields);
        expect(
          found.filter(
            (f) =>
              encodeWireFrame(f).equals(original) ||
              (f.seq === fields.seq && f.command === fields.command && f.body.length === fields.body.length),
          ),
        ).toEqual([]);
      }),
      { numRuns: runs },
    );
  });

  it('the message reader fails only with a WireError, and openBody never throws', () => {
    const keys = sessionKeys(EXAMPLE_KEY.key, 1, Buffer.alloc(16), Buffer.alloc(16));
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(Command), 0x00, 0x7f),
        fc.oneof(
          tlvBody,
          fc.uint8Array({ maxLength: 100 }).map((a) => Buffer.from(a)),
        ),
        fc.integer({ min: 0, max: 255 }),
        (command, body, seq) => {
          try {
            decodeBody(command, body);
          } catch (err) {
            expect(err).toBeInstanceOf(WireError);
          }
          const frame = { address: 1, seq, command, body };
          expect(openBody(keys.kBt, frame).ok).toBe(false);
          // Sealing any well-formed body without MAC fields of its own opens to the same fields and counter.
          let wellFormed = true;
          try {
            wellFormed = !splitTlv(body).some((f) => f.tag === Tag.MAC || f.tag === Tag.MAC_COUNTER);
          } catch {
            wellFormed = false;
          }
          if (!wellFormed) return;
          const sealed = sealBody(keys.kBt, frame, body, 1 + seq);
          expect(openBody(keys.kBt, { ...frame, body: sealed })).toEqual({
            ok: true,
            counter: 1 + seq,
            fields: body,
          });
          sealed[sealed.length - 1 - (seq % 16)]! ^= 0x01;
          expect(openBody(keys.kBt, { ...frame, body: sealed }).ok).toBe(false);
        },
      ),
      { numRuns: runs },
    );
  });

  it('a v2 terminal fed any frame never throws and takes no unauthenticated money answer', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            seq: fc.integer({ min: 0, max: 255 }),
            command: fc.constantFrom(...Object.values(Command), 0x7f),
            body: fc.oneof(
              tlvBody,
              fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a)),
            ),
          }),
          { maxLength: 20 },
        ),
        (frames) => {
          const sent: Buffer[] = [];
          const terminal = new SimTerminal({
            address: 1,
            mode: 'rs232',
            answerTimeoutMs: 60_000,
            maxTries: 1,
            protocol: 2,
            key: EXAMPLE_KEY,
            send: (b) => sent.push(b),
          });
          for (const f of frames) terminal.onFrame({ address: 1, ...f } satisfies WireFrame);
          // No session was ever opened, so no MAC'd box frame can have been taken as genuine.
          const moneyAnswers = ['sale-result', 'void-result', 'upload-result', 'sale-status', 'time-sync'];
          expect(terminal.received.filter((r) => moneyAnswers.includes(r.message.type))).toEqual([]);
          expect(terminal.timeSyncs).toBe(0);
          terminal.abort('done');
        },
      ),
      { numRuns: runs / 4 },
    );
  });
});
