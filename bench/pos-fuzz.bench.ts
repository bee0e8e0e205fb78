import type { PosMessage } from '@sceneway/device-drivers';
import {
  crc16,
  createFrameParser,
  DECLINE_REASONS,
  DriverError,
  decodeMessage,
  encodeMessage,
  encodePosFrame,
  HEADER_LENGTH,
  TRAILER_LENGTH,
} from '@sceneway/device-drivers';

/**
 * Long fuzz run of the canteen POS framing + codec (issue #5): at least 1,000,000 random and mutated
 * frames, streamed through the parser in random chunks, every frame it yields decoded, every decoded
 * message encoded again. A crash is any throw that is not a DriverError, from the parser or the codec;
 * the run also checks the parser's byte accounting (each byte lands in exactly one frame or error).
 *
 * Mutations re-seal the CRC on a third of the damaged frames, so damage reaches the TLV codec instead of
 * stopping at the CRC check. Deterministic for a seed: FUZZ_SEED=... FUZZ_FRAMES=... npm run bench pos-fuzz.
 */

/** mulberry32: tiny, fast, seedable; plenty for fuzzing (not for anything secret). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const int = (r: Rng, max: number) => Math.floor(r() * max);
const pick = <T>(r: Rng, items: readonly T[]): T => items[int(r, items.length)]!;
const bytes = (r: Rng, n: number) => {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(r, 256);
  return b;
};
const u32 = (r: Rng) => int(r, 0x100000000);
const ascii = (r: Rng, n: number) =>
  String.fromCharCode(...Array.from({ length: n }, () => 0x21 + int(r, 94)));

function randomMessage(r: Rng): PosMessage {
  const credential = () =>
    r() < 0.5
      ? {
          kind: 'card' as const,
          uidHex: bytes(r, 4 + int(r, 7))
            .toString('hex')
            .toUpperCase(),
        }
      : { kind: 'qr' as const, token: ascii(r, 1 + int(r, 80)) };
  const decision = () =>
    r() < 0.5
      ? { outcome: 'approved' as const }
      : { outcome: 'declined' as const, reason: pick(r, DECLINE_REASONS) };
  switch (int(r, 15)) {
    case 0:
      return { type: 'ack' };
    case 1:
      return {
        type: 'nak',
        reason: pick(r, [
          'UNKNOWN_COMMAND',
          'TLV_MALFORMED',
          'FIELD_MISSING',
          'FIELD_INVALID',
          'BUSY',
        ] as const),
      };
    case 2:
      return { type: 'poll', priceListVersion: u32(r), blacklistVersion: u32(r) };
    case 3:
      return { type: 'time-sync', utcMs: Date.now() + int(r, 1e9), tzOffsetMinutes: 480 };
    case 4:
      return {
        type: 'sale-result',
        receiptNo: u32(r),
        decision: decision(),
        balanceFen: u32(r),
        displayText: '支付成功',
      };
    case 5:
      return { type: 'void-result', receiptNo: u32(r), decision: decision(), displayText: 'OK' };
    case 6:
      return {
        type: 'upload-result',
        results: Array.from({ length: 1 + int(r, 8) }, () => ({ receiptNo: u32(r), decision: decision() })),
      };
    case 7:
      return {
        type: 'price-list',
        version: u32(r),
        page: 0,
        pageCount: 1,
        items: Array.from({ length: int(r, 6) }, () => ({
          code: int(r, 65536),
          name: '米饭',
          priceFen: int(r, 5000),
        })),
      };
    case 8:
      return { type: 'blacklist-version', version: u32(r) };
    case 9:
      return {
        type: 'status',
        offlineCount: int(r, 65536),
        offlineCapacity: int(r, 65536),
        priceListVersion: u32(r),
        blacklistVersion: u32(r),
        firmwareVersion: ascii(r, 1 + int(r, 16)),
      };
    case 10:
      return {
        type: 'sale-request',
        receiptNo: u32(r),
        amountFen: u32(r),
        credential: credential(),
        terminalTime: u32(r),
      };
    case 11:
      return {
        type: 'void-request',
        receiptNo: u32(r),
        originalReceiptNo: u32(r),
        amountFen: u32(r),
        terminalTime: u32(r),
      };
    case 12:
      return {
        type: 'offline-upload',
        records: Array.from({ length: 1 + int(r, 6) }, () => ({
          kind: 'sale' as const,
          receiptNo: u32(r),
          amountFen: u32(r),
          credential: credential(),
          terminalTime: u32(r),
        })),
      };
    case 13:
      return { type: 'price-list-request', currentVersion: u32(r), page: int(r, 256) };
    default:
      return { type: 'blacklist-version-query', currentVersion: u32(r) };
  }
}

/** Writes a correct CRC over the (mutated) frame, so the damage is judged by the codec. */
function reseal(frame: Buffer): Buffer {
  if (frame.length < HEADER_LENGTH + TRAILER_LENGTH) return frame;
  const bodyLength = frame.length - HEADER_LENGTH - TRAILER_LENGTH;
  if (bodyLength > 0xffff) return frame;
  frame.writeUInt16BE(bodyLength, 4);
  frame.writeUInt16BE(crc16(frame, 1, HEADER_LENGTH + bodyLength), HEADER_LENGTH + bodyLength);
  frame[frame.length - 1] = 0x03;
  return frame;
}

const MUTATIONS = [
  'none',
  'bit-flip',
  'byte-set',
  'truncate',
  'insert',
  'delete',
  'splice',
  'noise',
  'length',
] as const;
type Mutation = (typeof MUTATIONS)[number];

function mutate(r: Rng, corpus: Buffer[], kind: Mutation): Buffer {
  const base = Buffer.from(pick(r, corpus));
  switch (kind) {
    case 'none':
      return base;
    case 'bit-flip': {
      for (let n = 1 + int(r, 3); n > 0; n--) {
        const at = int(r, base.length);
        base[at] = base[at]! ^ (1 << int(r, 8));
      }
      return base;
    }
    case 'byte-set':
      base[int(r, base.length)] = int(r, 256);
      return base;
    case 'truncate':
      return base.subarray(0, int(r, base.length));
    case 'insert': {
      const at = int(r, base.length + 1);
      return Buffer.concat([base.subarray(0, at), bytes(r, 1 + int(r, 8)), base.subarray(at)]);
    }
    case 'delete': {
      const at = int(r, base.length);
      return Buffer.concat([base.subarray(0, at), base.subarray(at + 1 + int(r, 4))]);
    }
    case 'splice': {
      const other = pick(r, corpus);
      return Buffer.concat([base.subarray(0, int(r, base.length)), other.subarray(int(r, other.length))]);
    }
    case 'noise':
      return bytes(r, 1 + int(r, 64));
    case 'length':
      base.writeUInt16BE(int(r, 0x10000), 4);
      return base;
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const target = Number(process.env.FUZZ_FRAMES ?? 1_000_000);
  const seed = Number(process.env.FUZZ_SEED ?? 0x5ce4e);
  const r = prng(seed);
  const corpus = Array.from({ length: 4096 }, () =>
    encodePosFrame(int(r, 256), int(r, 256), randomMessage(r)),
  );

  const parser = createFrameParser();
  const frameErrors: Record<string, number> = {};
  const codecRejects: Record<string, number> = {};
  const crashSamples: string[] = [];
  let crashes = 0;
  let bytesFed = 0;
  let bytesAccounted = 0;
  let framesOut = 0;
  let messages = 0;
  let reencodeFailures = 0;
  const mutationCounts: Record<string, number> = {};

  const crash = (where: string, err: unknown, input?: Buffer) => {
    crashes++;
    if (crashSamples.length < 10) {
      crashSamples.push(
        `${where}: ${err instanceof Error ? err.stack : String(err)} ${input?.toString('hex') ?? ''}`,
      );
    }
  };

  const consume = (items: ReturnType<typeof parser.push>) => {
    for (const item of items) {
      if (item.kind === 'frame-error') {
        frameErrors[item.code] = (frameErrors[item.code] ?? 0) + 1;
        bytesAccounted += item.discarded;
        continue;
      }
      framesOut++;
      bytesAccounted += item.body.length + HEADER_LENGTH + TRAILER_LENGTH;
      let msg: PosMessage;
      try {
        msg = decodeMessage(item);
      } catch (err) {
        if (err instanceof DriverError) codecRejects[err.code] = (codecRejects[err.code] ?? 0) + 1;
        else crash('decodeMessage', err, item.body);
        continue;
      }
      messages++;
      try {
        // Only typed, valid messages may come out: each must encode again to the same command.
        if (encodeMessage(msg).command !== item.command) reencodeFailures++;
      } catch (err) {
        if (err instanceof DriverError) reencodeFailures++;
        else crash('encodeMessage', err, item.body);
      }
    }
  };

  const started = process.hrtime.bigint();
  const BATCH = 64;
  for (let done = 0; done < target; ) {
    const parts: Buffer[] = [];
    for (let i = 0; i < BATCH && done < target; i++, done++) {
      const kind = MUTATIONS[int(r, MUTATIONS.length)]!;
      mutationCounts[kind] = (mutationCounts[kind] ?? 0) + 1;
      let frame = mutate(r, corpus, kind);
      if (kind !== 'none' && kind !== 'noise' && r() < 0.33) frame = reseal(Buffer.from(frame));
      parts.push(frame);
    }
    const stream = Buffer.concat(parts);
    bytesFed += stream.length;
    // Random chunking, as a USB-serial adapter delivers it.
    for (let at = 0; at < stream.length; ) {
      const size = 1 + int(r, 256);
      const chunk = stream.subarray(at, at + size);
      at += size;
      try {
        consume(parser.push(chunk));
      } catch (err) {
        crash('parser.push', err, chunk);
      }
    }
  }
  try {
    consume(parser.flush());
  } catch (err) {
    crash('parser.flush', err);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  const result = {
    seed,
    frames: target,
    bytes: bytesFed,
    crashes,
    crashSamples,
    accountingViolations: bytesAccounted === bytesFed ? 0 : Math.abs(bytesFed - bytesAccounted),
    reencodeFailures,
    framesOut,
    messagesDecoded: messages,
    frameErrors,
    codecRejects,
    mutations: mutationCounts,
    seconds: Number(seconds.toFixed(2)),
    framesPerSec: Math.round(target / seconds),
    mbPerSec: Number((bytesFed / 1e6 / seconds).toFixed(1)),
  };
  process.stdout.write(
    `${target} frames (${(bytesFed / 1e6).toFixed(1)} MB) in ${result.seconds} s: ${result.framesPerSec} frames/s, ` +
      `${framesOut} frames parsed, ${messages} messages decoded, crashes ${crashes}, ` +
      `accounting violations ${result.accountingViolations}, re-encode failures ${reencodeFailures}\n`,
  );
  return result;
}
