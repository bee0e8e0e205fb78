import type { Frame, PosMessage } from '@sceneway/device-drivers';
import {
  boxProof,
  crc16,
  createFrameParser,
  DECLINE_REASONS,
  DriverError,
  decodeMessage,
  encodeMessage,
  encodePosFrame,
  encodeRecordFields,
  HEADER_LENGTH,
  MACED_TO_BOX,
  recordMac,
  SessionAuth,
  sealFrame,
  sessionKeys,
  TRAILER_LENGTH,
  terminalProof,
} from '@sceneway/device-drivers';

/**
 * Long fuzz run of the canteen POS framing + codec (issue #5): at least 1,000,000 random and mutated
 * frames, streamed through the parser in random chunks, every frame it yields decoded, every decoded
 * message encoded again. A crash is any throw that is not a DriverError, from the parser or the codec;
 * the run also checks the parser's byte accounting (each byte lands in exactly one frame or error).
 *
 * Mutations re-seal the CRC on a third of the damaged frames, so damage reaches the TLV codec instead of
 * stopping at the CRC check. Protocol v2 (issue #12): a quarter of the corpus is MAC'd terminal frames
 * sealed under a real session, and every parsed MAC'd command also goes through the box's session
 * checks (SessionAuth.check, then the codec on the fields): a check may refuse, never throw, and no
 * frame that is not byte for byte one the till sealed may be accepted (forgeriesAccepted). Deterministic for a seed: FUZZ_SEED=... FUZZ_FRAMES=... npm run bench pos-fuzz.
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
  const amount = () => 1 + int(r, 0xffffffff);
  const recordResult = () => {
    const k = int(r, 3);
    return k === 0
      ? { receiptNo: u32(r), result: 'recorded' as const }
      : {
          receiptNo: u32(r),
          result: k === 1 ? ('flagged' as const) : ('refused' as const),
          reason: pick(r, DECLINE_REASONS),
        };
  };
  switch (int(r, 27)) {
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
        results: Array.from({ length: 1 + int(r, 8) }, recordResult),
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
        amountFen: amount(),
        credential: credential(),
        terminalTime: u32(r),
      };
    case 11:
      return {
        type: 'void-request',
        receiptNo: u32(r),
        originalReceiptNo: u32(r),
        amountFen: amount(),
        terminalTime: u32(r),
      };
    case 12:
      return {
        type: 'offline-upload',
        records: Array.from({ length: 1 + int(r, 6) }, () => {
          const record = {
            kind: 'sale' as const,
            receiptNo: u32(r),
            amountFen: amount(),
            credential: credential(),
            terminalTime: u32(r),
          };
          if (r() < 0.5) return record;
          const signed = encodeRecordFields(record);
          return { ...record, recordMac: { mac: recordMac(FUZZ_KEY, signed), signed } };
        }),
      };
    case 13:
      return { type: 'price-list-request', currentVersion: u32(r), page: int(r, 256) };
    case 14:
      return { type: 'session-challenge', nonce: bytes(r, 16), proof: bytes(r, 32) };
    case 15: {
      const k = int(r, 3);
      const kind = r() < 0.5 ? ('sale' as const) : ('void' as const);
      return {
        type: 'sale-status',
        receiptNo: u32(r),
        status:
          k === 0
            ? { state: 'unknown' as const }
            : k === 1
              ? { state: 'approved' as const, kind, amountFen: amount() }
              : { state: 'declined' as const, kind, reason: pick(r, DECLINE_REASONS) },
      };
    }
    case 16:
      return { type: 'session-open', protocolVersion: 2, keyVersion: 1 + int(r, 65535), nonce: bytes(r, 16) };
    case 17:
      return { type: 'session-confirm', proof: bytes(r, 32) };
    case 18:
      return { type: 'sale-status-query', receiptNo: u32(r) };
    // Firmware (§13): the box's frames and the till's answers.
    case 19:
      return {
        type: 'fw-begin',
        digest: bytes(r, 32),
        size: 1 + int(r, 64 * 1024 * 1024),
        manifestSize: 1 + int(r, 1 << 20),
        signature: bytes(r, 8 + int(r, 121)),
        version: ascii(r, 1 + int(r, 16)),
      };
    case 20:
      return { type: 'fw-chunk', offset: u32(r), data: bytes(r, 1 + int(r, 4060)) };
    case 21:
      return { type: 'fw-status-query' };
    case 22:
      return { type: 'fw-activate', digest: bytes(r, 32) };
    case 23:
      return { type: 'fw-rollback' };
    case 24:
      return { type: 'fw-chunk-ack', nextOffset: u32(r) };
    case 25:
      return {
        type: 'fw-status',
        version: ascii(r, 1 + int(r, 16)),
        signed: r() < 0.5,
        model: ascii(r, 1 + int(r, 16)),
        hardware: ascii(r, 1 + int(r, 16)),
        staging:
          r() < 0.3
            ? { state: 'idle' as const }
            : {
                state: r() < 0.5 ? ('receiving' as const) : ('complete' as const),
                digest: bytes(r, 32),
                nextOffset: u32(r),
              },
        lastResult: pick(r, ['none', 'activated', 'boot-failed', 'rolled-back'] as const),
      };
    default:
      return { type: 'blacklist-version-query', currentVersion: u32(r) };
  }
}

function encodeFramed(address: number, seq: number, command: number, body: Buffer): Buffer {
  const out = Buffer.alloc(HEADER_LENGTH + body.length + TRAILER_LENGTH);
  out[0] = 0x02;
  out[1] = address;
  out[2] = seq;
  out[3] = command;
  out.writeUInt16BE(body.length, 4);
  body.copy(out, HEADER_LENGTH);
  out.writeUInt16BE(crc16(out, 1, HEADER_LENGTH + body.length), HEADER_LENGTH + body.length);
  out[out.length - 1] = 0x03;
  return out;
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

/** The till key of the fuzz run's v2 session (not secret: a fuzz fixture). */
const FUZZ_KEY = Buffer.alloc(32, 0x5c);
const V2_ADDRESS = 1;

/** A box-side session for address 1, opened by the contract's handshake; returns the till's K_tb. */
function openFuzzSession(r: Rng): { auth: SessionAuth; toBox: Buffer } {
  const auth = new SessionAuth(V2_ADDRESS, () => [{ version: 1, key: FUZZ_KEY }]);
  const nt = bytes(r, 16);
  const challenge = auth.open({ type: 'session-open', protocolVersion: 2, keyVersion: 1, nonce: nt });
  if ('code' in challenge || !challenge.proof.equals(boxProof(FUZZ_KEY, V2_ADDRESS, nt, challenge.nonce))) {
    throw new Error('fuzz session handshake failed');
  }
  const refused = auth.confirm({
    type: 'session-confirm',
    proof: terminalProof(FUZZ_KEY, V2_ADDRESS, nt, challenge.nonce),
  });
  if (refused) throw new Error(refused.detail);
  return { auth, toBox: sessionKeys(FUZZ_KEY, V2_ADDRESS, nt, challenge.nonce).toBox };
}

export async function run(): Promise<Record<string, unknown>> {
  const target = Number(process.env.FUZZ_FRAMES ?? 1_000_000);
  const seed = Number(process.env.FUZZ_SEED ?? 0x5ce4e);
  const r = prng(seed);
  const session = openFuzzSession(r);
  const sealed = new Set<string>();
  let counter = 0;
  const corpus = Array.from({ length: 4096 }, () => {
    const msg = randomMessage(r);
    const { command, body } = encodeMessage(msg);
    if (!MACED_TO_BOX.has(command) || r() < 0.25 || body.length > 4096 - 26) {
      return encodePosFrame(int(r, 256), int(r, 256), msg);
    }
    const wire = sealFrame({
      key: session.toBox,
      address: V2_ADDRESS,
      seq: int(r, 256),
      command,
      fields: body,
      counter: ++counter,
    });
    sealed.add(wire.toString('hex'));
    return wire;
  });
  const v2Outcomes: Record<string, number> = {};
  let forgeriesAccepted = 0;

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

  /** The box's v2 checks on a MAC'd command, then the codec on what they let through. */
  const checkV2 = (frame: Frame) => {
    let outcome: string;
    try {
      const checked = session.auth.check(frame);
      if ('code' in checked) outcome = checked.code;
      else {
        outcome = 'accepted';
        const wire = Buffer.from(encodeFramed(frame.address, frame.seq, frame.command, frame.body)).toString(
          'hex',
        );
        if (!sealed.has(wire)) forgeriesAccepted++;
        try {
          decodeMessage({ command: frame.command, body: checked.fields });
        } catch (err) {
          if (!(err instanceof DriverError)) crash('decodeMessage(v2 fields)', err, frame.body);
        }
      }
    } catch (err) {
      crash('SessionAuth.check', err, frame.body);
      return;
    }
    v2Outcomes[outcome] = (v2Outcomes[outcome] ?? 0) + 1;
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
      if (MACED_TO_BOX.has(item.command)) checkV2(item);
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
    forgeriesAccepted,
    v2MacFramesInCorpus: sealed.size,
    v2Outcomes,
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
      `accounting violations ${result.accountingViolations}, re-encode failures ${reencodeFailures}, ` +
      `v2 checks ${JSON.stringify(v2Outcomes)}, forgeries accepted ${forgeriesAccepted}\n`,
  );
  return result;
}
