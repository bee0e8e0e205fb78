import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DECLINE_REASONS } from '../driver-api.ts';
import { DriverError } from '../driver-error.ts';
import { decodeMessage, encodeMessage, encodePosFrame, encodeRecordFields } from './codec.ts';
import { recordMac } from './frame-mac.ts';
import { createFrameParser, type Frame } from './framing.ts';
import {
  Command,
  DeclineReason,
  MAX_RECORDS_PER_UPLOAD,
  NakReason,
  type OfflineRecord,
  type PosMessage,
  type RecordResult,
  type SaleState,
  Tag,
} from './messages.ts';

const CODEC_ERROR_CODES = new Set([
  'POS_UNKNOWN_COMMAND',
  'POS_TLV_MALFORMED',
  'POS_FIELD_MISSING',
  'POS_FIELD_INVALID',
  'POS_FRAME_LENGTH',
]);

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const T0 = 1_767_240_000; // 2026-01-01T04:00:00Z, the doc's example time

// ---- arbitraries for every message type ------------------------------------------------------------
const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const amount = fc.integer({ min: 1, max: 0xffffffff });
const bytesOf = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b));
const printable = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
const token = fc.string({ unit: printable, minLength: 1, maxLength: 120 });
const text = (maxBytes: number) =>
  fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => Buffer.byteLength(s, 'utf8') <= maxBytes);
const credential = fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 10 }).map((b) => ({
    kind: 'card' as const,
    uidHex: Buffer.from(b).toString('hex').toUpperCase(),
  })),
  token.map((t) => ({ kind: 'qr' as const, token: t })),
);
const decision = fc.oneof(
  fc.constant({ outcome: 'approved' as const }),
  fc.constantFrom(...DECLINE_REASONS).map((reason) => ({ outcome: 'declined' as const, reason })),
);
const plainRecord: fc.Arbitrary<OfflineRecord> = fc.oneof(
  fc.record({
    kind: fc.constant('sale' as const),
    receiptNo: u32,
    amountFen: amount,
    credential,
    terminalTime: u32,
  }),
  fc.record({
    kind: fc.constant('void' as const),
    receiptNo: u32,
    amountFen: amount,
    credential,
    terminalTime: u32,
    originalReceiptNo: u32,
  }),
);
/** v1 records, and v2 records carrying a RECORD_MAC over exactly their own fields. */
const record: fc.Arbitrary<OfflineRecord> = fc.oneof(
  plainRecord,
  fc.tuple(plainRecord, bytesOf(32)).map(([r, key]) => {
    const signed = encodeRecordFields(r);
    return { ...r, recordMac: { mac: recordMac(key, signed), signed } };
  }),
);
const recordResult: fc.Arbitrary<RecordResult> = fc.oneof(
  u32.map((receiptNo) => ({ receiptNo, result: 'recorded' as const })),
  fc.record({
    receiptNo: u32,
    result: fc.constantFrom('flagged' as const, 'refused' as const),
    reason: fc.constantFrom(...DECLINE_REASONS),
  }),
);
const saleState: fc.Arbitrary<SaleState> = fc.oneof(
  fc.constant({ state: 'unknown' as const }),
  fc.record({
    state: fc.constant('approved' as const),
    kind: fc.constantFrom('sale' as const, 'void' as const),
    amountFen: amount,
  }),
  fc.record({
    state: fc.constant('declined' as const),
    kind: fc.constantFrom('sale' as const, 'void' as const),
    reason: fc.constantFrom(...DECLINE_REASONS),
  }),
);

const message: fc.Arbitrary<PosMessage> = fc.oneof(
  fc.constant({ type: 'ack' as const }),
  fc.constantFrom(...(Object.keys(NakReason) as Array<keyof typeof NakReason>)).map((reason) => ({
    type: 'nak' as const,
    reason,
  })),
  fc.record(
    { type: fc.constant('poll' as const), priceListVersion: u32, blacklistVersion: u32 },
    { requiredKeys: ['type'] },
  ),
  fc.record({
    type: fc.constant('time-sync' as const),
    utcMs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    tzOffsetMinutes: fc.integer({ min: -0x8000, max: 0x7fff }),
  }),
  fc.record(
    {
      type: fc.constant('sale-result' as const),
      receiptNo: u32,
      decision,
      balanceFen: u32,
      displayText: text(64),
    },
    { requiredKeys: ['type', 'receiptNo', 'decision', 'displayText'] },
  ),
  fc.record({ type: fc.constant('void-result' as const), receiptNo: u32, decision, displayText: text(64) }),
  fc.record({
    type: fc.constant('upload-result' as const),
    results: fc.array(recordResult, {
      minLength: 1,
      maxLength: MAX_RECORDS_PER_UPLOAD,
    }),
  }),
  fc.integer({ min: 1, max: 255 }).chain((pageCount) =>
    fc.record({
      type: fc.constant('price-list' as const),
      version: u32,
      page: fc.integer({ min: 0, max: pageCount - 1 }),
      pageCount: fc.constant(pageCount),
      items: fc.array(fc.record({ code: u16, name: text(32), priceFen: u32 }), { maxLength: 40 }),
    }),
  ),
  fc.record({ type: fc.constant('blacklist-version' as const), version: u32 }),
  fc.record(
    {
      type: fc.constant('status' as const),
      offlineCount: u16,
      offlineCapacity: u16,
      priceListVersion: u32,
      blacklistVersion: u32,
      firmwareVersion: fc.string({ unit: printable, minLength: 1, maxLength: 32 }),
      protocolVersion: u8,
      model: fc.string({ unit: printable, minLength: 1, maxLength: 32 }),
      hardware: fc.string({ unit: printable, minLength: 1, maxLength: 32 }),
    },
    { requiredKeys: ['type', 'offlineCount', 'offlineCapacity', 'priceListVersion', 'blacklistVersion'] },
  ),
  fc.record({
    type: fc.constant('sale-request' as const),
    receiptNo: u32,
    amountFen: amount,
    credential,
    terminalTime: u32,
  }),
  fc.record({
    type: fc.constant('void-request' as const),
    receiptNo: u32,
    originalReceiptNo: u32,
    amountFen: amount,
    terminalTime: u32,
  }),
  fc.record({
    type: fc.constant('offline-upload' as const),
    records: fc.array(record, { minLength: 1, maxLength: 8 }),
  }),
  fc.record({ type: fc.constant('price-list-request' as const), currentVersion: u32, page: u8 }),
  fc.record({ type: fc.constant('blacklist-version-query' as const), currentVersion: u32 }),
  fc.record({ type: fc.constant('session-challenge' as const), nonce: bytesOf(16), proof: bytesOf(32) }),
  fc.record({ type: fc.constant('sale-status' as const), receiptNo: u32, status: saleState }),
  fc.record({
    type: fc.constant('session-open' as const),
    protocolVersion: u8,
    keyVersion: fc.integer({ min: 1, max: 0xffff }),
    nonce: bytesOf(16),
  }),
  fc.record({ type: fc.constant('session-confirm' as const), proof: bytesOf(32) }),
  fc.record({ type: fc.constant('sale-status-query' as const), receiptNo: u32 }),
  // Firmware (§13): every box frame and both till answers, across their field ranges.
  fc.record({
    type: fc.constant('fw-begin' as const),
    digest: bytesOf(32),
    size: fc.integer({ min: 1, max: 0xffffffff - 4 * 1024 * 1024 }),
    manifestSize: fc.integer({ min: 1, max: 4 * 1024 * 1024 }),
    signature: fc.uint8Array({ minLength: 8, maxLength: 128 }).map((b) => Buffer.from(b)),
    version: fc.string({ unit: printable, minLength: 1, maxLength: 32 }),
  }),
  fc.record({
    type: fc.constant('fw-chunk' as const),
    offset: u32,
    data: fc.uint8Array({ minLength: 1, maxLength: 4060 }).map((b) => Buffer.from(b)),
  }),
  fc.constant({ type: 'fw-status-query' as const }),
  fc.record({ type: fc.constant('fw-activate' as const), digest: bytesOf(32) }),
  fc.constant({ type: 'fw-rollback' as const }),
  fc.record({ type: fc.constant('fw-chunk-ack' as const), nextOffset: u32 }),
  fc.record(
    {
      type: fc.constant('fw-status' as const),
      version: fc.string({ unit: printable, minLength: 1, maxLength: 32 }),
      previousVersion: fc.string({ unit: printable, minLength: 1, maxLength: 32 }),
      signed: fc.boolean(),
      model: fc.string({ unit: printable, minLength: 1, maxLength: 32 }),
      hardware: fc.string({ unit: printable, minLength: 1, maxLength: 32 }),
      staging: fc.oneof(
        fc.constant({ state: 'idle' as const }),
        fc.record({
          state: fc.constantFrom('receiving' as const, 'complete' as const),
          digest: bytesOf(32),
          nextOffset: u32,
        }),
      ),
      lastResult: fc.constantFrom(
        'none' as const,
        'activated' as const,
        'boot-failed' as const,
        'rolled-back' as const,
      ),
    },
    { requiredKeys: ['type', 'version', 'signed', 'model', 'hardware', 'staging', 'lastResult'] },
  ),
);

/** A body made of plausible TLVs (known tags, random values): reaches deeper than uniform noise. */
const tlvBody = fc
  .array(
    fc.tuple(
      fc.oneof(fc.constantFrom(...Object.values(Tag)), u8),
      fc.oneof(fc.uint8Array({ maxLength: 12 }), fc.constantFrom(new Uint8Array([0]), new Uint8Array([1]))),
    ),
    { maxLength: 10 },
  )
  .map((fields) =>
    Buffer.concat(
      fields.map(([tag, value]) => {
        const head = Buffer.alloc(3);
        head[0] = tag;
        head.writeUInt16BE(value.length, 1);
        return Buffer.concat([head, value]);
      }),
    ),
  );

function expectTypedOrDriverError(frame: { command: number; body: Uint8Array }): void {
  try {
    const msg = decodeMessage(frame);
    expect(typeof msg.type).toBe('string');
    // Whatever decodes must encode again to the same command (a typed, valid message).
    expect(encodeMessage(msg).command).toBe(frame.command);
  } catch (err) {
    expect(err).toBeInstanceOf(DriverError);
    expect(CODEC_ERROR_CODES.has((err as DriverError).code)).toBe(true);
  }
}

describe('codec', () => {
  it('round-trips every message type through the frame layer', () => {
    fc.assert(
      fc.property(message, u8, u8, (msg, address, seq) => {
        const wire = encodePosFrame(address, seq, msg);
        const [frame, ...rest] = createFrameParser().push(wire);
        expect(rest).toEqual([]);
        expect(frame?.kind).toBe('frame');
        const decoded = decodeMessage(frame as Frame);
        expect(decoded).toEqual(msg);
      }),
      { numRuns: 500 },
    );
  });

  it('turns arbitrary and TLV-shaped bodies into typed messages or DriverErrors only', () => {
    const command = fc.oneof(fc.constantFrom(...Object.values(Command)), u8);
    fc.assert(
      fc.property(command, fc.oneof(fc.uint8Array({ maxLength: 200 }), tlvBody), (cmd, body) => {
        expectTypedOrDriverError({ command: cmd, body });
      }),
      { numRuns: 2000 },
    );
  });

  it('decodes the doc example sale request', () => {
    const frame = createFrameParser().push(
      hex(
        '02 01 05 41 00 1C 01 00 04 00 00 04 D2 02 00 04 00 00 04 E2 03 00 04 04 A1 B2 C3 05 00 04 69 55 F1 40 B6 57 03',
      ),
    )[0] as Frame;
    expect(frame).toMatchObject({ address: 1, seq: 5, command: Command.SALE_REQUEST });
    expect(decodeMessage(frame)).toEqual({
      type: 'sale-request',
      receiptNo: 1234,
      amountFen: 1250,
      credential: { kind: 'card', uidHex: '04A1B2C3' },
      terminalTime: T0,
    });
  });

  it('encodes the doc example sale results byte for byte', () => {
    const approved = encodePosFrame(1, 5, {
      type: 'sale-result',
      receiptNo: 1234,
      decision: { outcome: 'approved' },
      balanceFen: 8750,
      displayText: '支付成功',
    });
    expect(approved).toEqual(
      hex(
        '02 01 05 32 00 21 01 00 04 00 00 04 D2 06 00 01 00 08 00 04 00 00 22 2E 09 00 0C E6 94 AF E4 BB 98 E6 88 90 E5 8A 9F 80 DC 03',
      ),
    );
    const declined = encodePosFrame(1, 5, {
      type: 'sale-result',
      receiptNo: 1234,
      decision: { outcome: 'declined', reason: 'BLACKLISTED' },
      displayText: 'CARD BLOCKED',
    });
    expect(declined).toEqual(
      hex(
        '02 01 05 32 00 1E 01 00 04 00 00 04 D2 06 00 01 01 07 00 01 04 09 00 0C 43 41 52 44 20 42 4C 4F 43 4B 45 44 12 75 03',
      ),
    );
  });

  it('gives each reject a specific code', () => {
    const sale = (body: string) => ({ command: Command.SALE_REQUEST, body: hex(body) });
    const codeOf = (frame: { command: number; body: Uint8Array }) => {
      try {
        decodeMessage(frame);
        return 'decoded';
      } catch (err) {
        return err instanceof DriverError ? err.code : 'not a DriverError';
      }
    };
    // no credential: a live sale from a till paid through a bound reader (doc §7.5) decodes without one
    const bare = decodeMessage(sale('01 00 04 00 00 04 D2 02 00 04 00 00 04 E2 05 00 04 69 55 F1 40'));
    expect(bare).toEqual({
      type: 'sale-request',
      receiptNo: 1234,
      amountFen: 1250,
      terminalTime: 1767240000,
    });
    // ...but an offline record must carry its credential (RECORD: kind, receipt, amount, time)
    const record = '17 00 01 00 01 00 04 00 00 00 01 02 00 04 00 00 00 64 05 00 04 69 55 F1 40';
    expect(codeOf({ command: Command.OFFLINE_UPLOAD, body: hex(`0D 00 19 ${record}`) })).toBe(
      'POS_FIELD_MISSING',
    );
    // card and QR at once
    expect(
      codeOf(
        sale(
          '01 00 04 00 00 04 D2 02 00 04 00 00 04 E2 03 00 04 04 A1 B2 C3 04 00 01 41 05 00 04 69 55 F1 40',
        ),
      ),
    ).toBe('POS_FIELD_INVALID');
    // TLV length runs past the body
    expect(codeOf(sale('01 00 09 00 00'))).toBe('POS_TLV_MALFORMED');
    // the same scalar tag twice
    expect(codeOf(sale('01 00 04 00 00 04 D2 01 00 04 00 00 04 D2'))).toBe('POS_TLV_MALFORMED');
    // RECEIPT_NO of the wrong width
    expect(codeOf(sale('01 00 02 04 D2'))).toBe('POS_FIELD_INVALID');
    // a QR token with a control character
    expect(
      codeOf(sale('01 00 04 00 00 04 D2 02 00 04 00 00 04 E2 04 00 02 41 0A 05 00 04 69 55 F1 40')),
    ).toBe('POS_FIELD_INVALID');
    expect(codeOf({ command: 0x7f, body: new Uint8Array() })).toBe('POS_UNKNOWN_COMMAND');
    // DISPLAY_TEXT that is not UTF-8
    expect(
      codeOf({ command: Command.SALE_RESULT, body: hex('01 00 04 00 00 00 01 06 00 01 00 09 00 01 FF') }),
    ).toBe('POS_FIELD_INVALID');
    // unknown decline reason
    expect(
      codeOf({
        command: Command.SALE_RESULT,
        body: hex('01 00 04 00 00 00 01 06 00 01 01 07 00 01 77 09 00 00'),
      }),
    ).toBe('POS_FIELD_INVALID');
  });

  it('ignores unknown tags so terminals can add fields', () => {
    const msg = decodeMessage({
      command: Command.BLACKLIST_VERSION_QUERY,
      body: hex('13 00 04 00 00 00 02 F0 00 02 AB CD'),
    });
    expect(msg).toEqual({ type: 'blacklist-version-query', currentVersion: 2 });
  });

  it('maps every agent decline reason to a distinct wire code', () => {
    const codes = DECLINE_REASONS.map((r) => DeclineReason[r]);
    expect(new Set(codes).size).toBe(DECLINE_REASONS.length);
    expect(Object.keys(DeclineReason).sort()).toEqual([...DECLINE_REASONS].sort());
  });

  it('refuses to encode what the wire cannot carry', () => {
    const tooMany = {
      type: 'upload-result' as const,
      results: Array.from({ length: MAX_RECORDS_PER_UPLOAD + 1 }, (_, i) => ({
        receiptNo: i,
        result: 'recorded' as const,
      })),
    };
    expect(() => encodeMessage(tooMany)).toThrowError(DriverError);
    expect(() =>
      encodeMessage({
        type: 'sale-request',
        receiptNo: -1,
        amountFen: 1,
        credential: { kind: 'qr', token: 'x' },
        terminalTime: 0,
      }),
    ).toThrowError(expect.objectContaining({ code: 'POS_FIELD_INVALID' }));
    expect(() =>
      encodeMessage({
        type: 'sale-request',
        receiptNo: 1,
        amountFen: 1.5,
        credential: { kind: 'qr', token: 'x' },
        terminalTime: 0,
      }),
    ).toThrowError(expect.objectContaining({ code: 'POS_FIELD_INVALID' }));
  });

  it('refuses a zero amount as a field error, in a sale, a void and an offline record', () => {
    const codeOf = (command: number, body: string) => {
      try {
        decodeMessage({ command, body: hex(body) });
        return 'decoded';
      } catch (err) {
        return err instanceof DriverError ? err.code : 'not a DriverError';
      }
    };
    const zero = '02 00 04 00 00 00 00';
    expect(
      codeOf(Command.SALE_REQUEST, `01 00 04 00 00 04 D2 ${zero} 03 00 04 04 A1 B2 C3 05 00 04 69 55 F1 40`),
    ).toBe('POS_FIELD_INVALID');
    expect(
      codeOf(Command.VOID_REQUEST, `01 00 04 00 00 00 02 0A 00 04 00 00 00 01 ${zero} 05 00 04 69 55 F1 40`),
    ).toBe('POS_FIELD_INVALID');
    const record = `17 00 01 00 01 00 04 00 00 00 01 ${zero} 03 00 04 04 A1 B2 C3 05 00 04 69 55 F1 40`;
    expect(codeOf(Command.OFFLINE_UPLOAD, `0D 00 20 ${record}`)).toBe('POS_FIELD_INVALID');
    expect(() =>
      encodeMessage({ type: 'sale-request', receiptNo: 1, amountFen: 0, terminalTime: 0 }),
    ).toThrowError(expect.objectContaining({ code: 'POS_FIELD_INVALID' }));
  });

  it('refuses an upload of 0 or more than 32 records with FIELD_INVALID', () => {
    const one = Buffer.from(
      encodeMessage({
        type: 'offline-upload',
        records: [
          {
            kind: 'sale',
            receiptNo: 1,
            amountFen: 1,
            credential: { kind: 'qr', token: 'x' },
            terminalTime: 0,
          },
        ],
      }).body,
    );
    const codeOf = (body: Buffer) => {
      try {
        decodeMessage({ command: Command.OFFLINE_UPLOAD, body });
        return 'decoded';
      } catch (err) {
        return (err as DriverError).code;
      }
    };
    expect(codeOf(Buffer.alloc(0))).toBe('POS_FIELD_INVALID');
    expect(codeOf(Buffer.concat(Array.from({ length: 32 }, () => one)))).toBe('decoded');
    expect(codeOf(Buffer.concat(Array.from({ length: 33 }, () => one)))).toBe('POS_FIELD_INVALID');
  });

  it('reads RECORD_RESULT 0, 1 and 2 as recorded, flagged and refused', () => {
    const body = (result: number, reason?: number) =>
      hex(
        `0E 00 ${reason === undefined ? '0B' : '0F'} 01 00 04 00 00 00 07 06 00 01 0${result}${reason === undefined ? '' : ` 07 00 01 ${reason.toString(16).padStart(2, '0')}`}`,
      );
    const results = (b: Buffer) =>
      (decodeMessage({ command: Command.UPLOAD_RESULT, body: b }) as { results: unknown[] }).results;
    expect(results(body(0))).toEqual([{ receiptNo: 7, result: 'recorded' }]);
    expect(results(body(1, DeclineReason.BLACKLISTED))).toEqual([
      { receiptNo: 7, result: 'flagged', reason: 'BLACKLISTED' },
    ]);
    expect(results(body(2, DeclineReason.RECORD_MAC_INVALID))).toEqual([
      { receiptNo: 7, result: 'refused', reason: 'RECORD_MAC_INVALID' },
    ]);
    expect(() => results(body(3, 1))).toThrowError(expect.objectContaining({ code: 'POS_FIELD_INVALID' }));
    // RESULT 2 belongs to RECORD_RESULT only: a SALE_RESULT with it is refused
    expect(() =>
      decodeMessage({
        command: Command.SALE_RESULT,
        body: hex('01 00 04 00 00 00 01 06 00 01 02 07 00 01 01 09 00 00'),
      }),
    ).toThrowError(expect.objectContaining({ code: 'POS_FIELD_INVALID' }));
  });

  it('keeps a record MAC with the exact bytes it covers, and refuses one that is not last', () => {
    const r: OfflineRecord = {
      kind: 'sale',
      receiptNo: 9,
      amountFen: 500,
      credential: { kind: 'card', uidHex: '04A1B2C3' },
      terminalTime: T0,
    };
    const signed = encodeRecordFields(r);
    const mac = Buffer.alloc(16, 0xab);
    const inner = Buffer.concat([signed, hex('20 00 10'), mac]);
    const upload = (value: Buffer) => {
      const head = Buffer.from([Tag.RECORD, 0, 0]);
      head.writeUInt16BE(value.length, 1);
      return decodeMessage({ command: Command.OFFLINE_UPLOAD, body: Buffer.concat([head, value]) });
    };
    const decoded = upload(inner) as { records: OfflineRecord[] };
    expect(decoded.records[0]?.recordMac).toEqual({ mac, signed });
    // a field after the MAC would ride along unsigned
    const afterMac = Buffer.concat([inner, hex('F0 00 01 00')]);
    expect(() => upload(afterMac)).toThrowError(expect.objectContaining({ code: 'POS_FIELD_INVALID' }));
  });
});
