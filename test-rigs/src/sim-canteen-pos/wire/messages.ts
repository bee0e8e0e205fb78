import {
  Command,
  DeclineReason,
  type DeclineReasonName,
  MAC_BYTES,
  MAX_BODY_LENGTH,
  MAX_RECORDS_PER_UPLOAD,
  NakReason,
  type NakReasonName,
  NONCE_BYTES,
  nameOf,
  PROOF_BYTES,
  PROTOCOL_VERSION_2,
  Tag,
} from './codes.ts';
import { decodeFirmware, FIRMWARE_COMMAND_OF, type FirmwareMessage, firmwareBody } from './firmware.ts';
import { TlvBuilder, TlvFields } from './tlv.ts';
import { WireError } from './wire-error.ts';

/**
 * Every message of docs/protocols/canteen-pos.md §7 as the terminal side reads and writes it. The field
 * ranges are the document's (§6.1, §7). Frame MACs (MAC_COUNTER, MAC) are not message fields: v2.ts
 * seals and opens them around these bodies. A RECORD's RECORD_MAC is a field of the record.
 */
export type Credential = { kind: 'card'; uidHex: string } | { kind: 'qr'; token: string };
export type Decision = { outcome: 'approved' } | { outcome: 'declined'; reason: DeclineReasonName };

export interface OfflineRecord {
  kind: 'sale' | 'void';
  receiptNo: number;
  amountFen: number;
  credential: Credential;
  terminalTime: number;
  originalReceiptNo?: number;
  /** v2: the RECORD_MAC the till made when the sale happened (§7.8); absent in v1. */
  recordMac?: Buffer;
}

/**
 * RESULT 0 recorded; 1 recorded with a finding (REASON); 2 not recorded (REASON). `decision` reads
 * 1 and 2 as declined with the reason, which is how a v1 till reads RESULT 1.
 */
export interface RecordResult {
  receiptNo: number;
  decision: Decision;
  result?: 0 | 1 | 2;
}

export interface PriceItem {
  code: number;
  name: string;
  priceFen: number;
}

export type SaleState = 'approved' | 'declined' | 'unknown';

export type PosMessage =
  | { type: 'ack' }
  | { type: 'nak'; reason: NakReasonName }
  | { type: 'poll'; priceListVersion?: number; blacklistVersion?: number }
  | { type: 'time-sync'; utcMs: number; tzOffsetMinutes: number }
  | { type: 'sale-result'; receiptNo: number; decision: Decision; balanceFen?: number; displayText: string }
  | { type: 'void-result'; receiptNo: number; decision: Decision; displayText: string }
  | { type: 'upload-result'; results: RecordResult[] }
  | { type: 'price-list'; version: number; page: number; pageCount: number; items: PriceItem[] }
  | { type: 'blacklist-version'; version: number }
  | { type: 'session-challenge'; nonce: Buffer; proof: Buffer }
  | {
      type: 'sale-status';
      receiptNo: number;
      state: SaleState;
      recordKind?: 'sale' | 'void';
      amountFen?: number;
      reason?: DeclineReasonName;
    }
  | {
      type: 'status';
      offlineCount: number;
      offlineCapacity: number;
      priceListVersion: number;
      blacklistVersion: number;
      firmwareVersion?: string;
      protocolVersion?: number;
      model?: string;
      hardware?: string;
    }
  | {
      type: 'sale-request';
      receiptNo: number;
      amountFen: number;
      credential?: Credential;
      terminalTime: number;
    }
  | {
      type: 'void-request';
      receiptNo: number;
      originalReceiptNo: number;
      amountFen: number;
      terminalTime: number;
    }
  | { type: 'offline-upload'; records: OfflineRecord[] }
  | { type: 'price-list-request'; currentVersion: number; page: number }
  | { type: 'blacklist-version-query'; currentVersion: number }
  | { type: 'session-open'; keyVersion: number; nonce: Buffer }
  | { type: 'session-confirm'; proof: Buffer }
  | { type: 'sale-status-query'; receiptNo: number }
  | FirmwareMessage;

export type PosMessageType = PosMessage['type'];
export type PosMessageOf<T extends PosMessageType> = Extract<PosMessage, { type: T }>;
export type TerminalRequest = PosMessageOf<
  | 'sale-request'
  | 'void-request'
  | 'offline-upload'
  | 'price-list-request'
  | 'blacklist-version-query'
  | 'session-open'
  | 'session-confirm'
  | 'sale-status-query'
>;

export const COMMAND_OF: Record<PosMessageType, number> = {
  ack: Command.ACK,
  nak: Command.NAK,
  poll: Command.POLL,
  'time-sync': Command.TIME_SYNC,
  'sale-result': Command.SALE_RESULT,
  'void-result': Command.VOID_RESULT,
  'upload-result': Command.UPLOAD_RESULT,
  'price-list': Command.PRICE_LIST,
  'blacklist-version': Command.BLACKLIST_VERSION,
  'session-challenge': Command.SESSION_CHALLENGE,
  'sale-status': Command.SALE_STATUS,
  status: Command.STATUS,
  'sale-request': Command.SALE_REQUEST,
  'void-request': Command.VOID_REQUEST,
  'offline-upload': Command.OFFLINE_UPLOAD,
  'price-list-request': Command.PRICE_LIST_REQUEST,
  'blacklist-version-query': Command.BLACKLIST_VERSION_QUERY,
  'session-open': Command.SESSION_OPEN,
  'session-confirm': Command.SESSION_CONFIRM,
  'sale-status-query': Command.SALE_STATUS_QUERY,
  ...FIRMWARE_COMMAND_OF,
};

/** v2 (§7.0): the frames that carry MAC_COUNTER and MAC, by the direction's session key. */
export const MACED_TO_BOX: ReadonlySet<number> = new Set([
  Command.SALE_REQUEST,
  Command.VOID_REQUEST,
  Command.OFFLINE_UPLOAD,
  Command.SALE_STATUS_QUERY,
  Command.FW_CHUNK_ACK,
  Command.FW_STATUS,
]);
export const MACED_TO_TERMINAL: ReadonlySet<number> = new Set([
  Command.SALE_RESULT,
  Command.VOID_RESULT,
  Command.UPLOAD_RESULT,
  Command.SALE_STATUS,
  Command.TIME_SYNC,
  Command.FW_BEGIN,
  Command.FW_CHUNK,
  Command.FW_STATUS_QUERY,
  Command.FW_ACTIVATE,
  Command.FW_ROLLBACK,
]);

const AMOUNT = { min: 1, max: 0xffffffff };
const MIN_UID = 4;
const MAX_UID = 10;
const MAX_QR = 512;
const MAX_TEXT = 64;
const MAX_ITEM_NAME = 32;
const MAX_FIRMWARE = 32;

// ---- reading ---------------------------------------------------------------------------------------

function credentialOf(f: TlvFields, required: boolean): Credential | undefined {
  const card = f.has(Tag.CARD_UID);
  const qr = f.has(Tag.QR_TOKEN);
  if (card && qr) throw new WireError('FIELD_INVALID', 'CARD_UID and QR_TOKEN are mutually exclusive');
  if (card)
    return { kind: 'card', uidHex: f.bytes(Tag.CARD_UID, MIN_UID, MAX_UID).toString('hex').toUpperCase() };
  if (qr) return { kind: 'qr', token: f.ascii(Tag.QR_TOKEN, 1, MAX_QR) };
  if (required) throw new WireError('FIELD_MISSING', 'a RECORD needs CARD_UID or QR_TOKEN');
  return undefined;
}

function reasonOf(f: TlvFields): DeclineReasonName {
  const code = f.uint(Tag.REASON, 1);
  const name = nameOf(DeclineReason, code);
  if (!name) throw new WireError('FIELD_INVALID', `REASON 0x${code.toString(16)} is not in §6.3`);
  return name;
}

function decisionOf(f: TlvFields): Decision {
  const result = f.uint(Tag.RESULT, 1, 0, 1);
  return result === 0 ? { outcome: 'approved' } : { outcome: 'declined', reason: reasonOf(f) };
}

function recordOf(value: Buffer): OfflineRecord {
  const f = TlvFields.parse(value, 'RECORD');
  const kind = f.uint(Tag.RECORD_KIND, 1, 0, 1) === 0 ? 'sale' : 'void';
  const record: OfflineRecord = {
    kind,
    receiptNo: f.uint(Tag.RECEIPT_NO, 4),
    amountFen: f.uint(Tag.AMOUNT_FEN, 4, AMOUNT.min, AMOUNT.max),
    credential: credentialOf(f, true)!,
    terminalTime: f.uint(Tag.TERMINAL_TIME, 4),
  };
  if (kind === 'void') record.originalReceiptNo = f.uint(Tag.ORIGINAL_RECEIPT_NO, 4);
  if (f.has(Tag.RECORD_MAC)) {
    const last = f.items[f.items.length - 1]!;
    if (last.tag !== Tag.RECORD_MAC)
      throw new WireError('FIELD_INVALID', 'RECORD_MAC must be the last field of a RECORD');
    record.recordMac = f.bytes(Tag.RECORD_MAC, MAC_BYTES, MAC_BYTES);
  }
  return record;
}

/** 1..32 entries; none or more is FIELD_INVALID (§6.5: an upload's record count is a range, not a presence). */
function countOf(n: number, what: string): void {
  if (n === 0 || n > MAX_RECORDS_PER_UPLOAD) {
    throw new WireError('FIELD_INVALID', `${what}: ${n} entries, expected 1..${MAX_RECORDS_PER_UPLOAD}`);
  }
}

/** Frame command and body (MAC fields already removed by v2.ts, or ignored as unknown-to-the-message) → message. */
export function decodeBody(command: number, body: Buffer): PosMessage {
  const name = nameOf(Command, command);
  if (!name)
    throw new WireError('UNKNOWN_COMMAND', `command 0x${command.toString(16).padStart(2, '0')} is not in §7`);
  const f = TlvFields.parse(body, name);
  switch (command) {
    case Command.ACK:
      return { type: 'ack' };
    case Command.NAK: {
      const code = f.uint(Tag.NAK_REASON, 1);
      const reason = nameOf(NakReason, code);
      if (!reason) throw new WireError('FIELD_INVALID', `NAK_REASON 0x${code.toString(16)} is not in §6.4`);
      return { type: 'nak', reason };
    }
    case Command.POLL: {
      const m: PosMessageOf<'poll'> = { type: 'poll' };
      if (f.has(Tag.PRICE_LIST_VERSION)) m.priceListVersion = f.uint(Tag.PRICE_LIST_VERSION, 4);
      if (f.has(Tag.BLACKLIST_VERSION)) m.blacklistVersion = f.uint(Tag.BLACKLIST_VERSION, 4);
      return m;
    }
    case Command.TIME_SYNC:
      return { type: 'time-sync', utcMs: f.u64(Tag.UTC_TIME_MS), tzOffsetMinutes: f.i16(Tag.TZ_OFFSET_MIN) };
    case Command.SALE_RESULT: {
      const m: PosMessageOf<'sale-result'> = {
        type: 'sale-result',
        receiptNo: f.uint(Tag.RECEIPT_NO, 4),
        decision: decisionOf(f),
        displayText: f.text(Tag.DISPLAY_TEXT, MAX_TEXT),
      };
      if (f.has(Tag.BALANCE_FEN)) m.balanceFen = f.uint(Tag.BALANCE_FEN, 4);
      return m;
    }
    case Command.VOID_RESULT:
      return {
        type: 'void-result',
        receiptNo: f.uint(Tag.RECEIPT_NO, 4),
        decision: decisionOf(f),
        displayText: f.text(Tag.DISPLAY_TEXT, MAX_TEXT),
      };
    case Command.UPLOAD_RESULT: {
      const items = f.all(Tag.RECORD_RESULT);
      countOf(items.length, 'RECORD_RESULT');
      return {
        type: 'upload-result',
        results: items.map(({ value }) => {
          const r = TlvFields.parse(value, 'RECORD_RESULT');
          const result = r.uint(Tag.RESULT, 1, 0, 2) as 0 | 1 | 2;
          return {
            receiptNo: r.uint(Tag.RECEIPT_NO, 4),
            decision: result === 0 ? { outcome: 'approved' } : { outcome: 'declined', reason: reasonOf(r) },
            result,
          };
        }),
      };
    }
    case Command.PRICE_LIST: {
      const version = f.uint(Tag.PRICE_LIST_VERSION, 4);
      const page = f.uint(Tag.PAGE, 1);
      const pageCount = f.uint(Tag.PAGE_COUNT, 1, 1, 255);
      if (page >= pageCount) throw new WireError('FIELD_INVALID', `PAGE ${page} of ${pageCount}`);
      return {
        type: 'price-list',
        version,
        page,
        pageCount,
        items: f.all(Tag.PRICE_ITEM).map(({ value }) => {
          const i = TlvFields.parse(value, 'PRICE_ITEM');
          return {
            code: i.uint(Tag.ITEM_CODE, 2),
            name: i.text(Tag.ITEM_NAME, MAX_ITEM_NAME),
            priceFen: i.uint(Tag.AMOUNT_FEN, 4),
          };
        }),
      };
    }
    case Command.BLACKLIST_VERSION:
      return { type: 'blacklist-version', version: f.uint(Tag.BLACKLIST_VERSION, 4) };
    case Command.SESSION_CHALLENGE:
      return {
        type: 'session-challenge',
        nonce: f.bytes(Tag.NONCE, NONCE_BYTES, NONCE_BYTES),
        proof: f.bytes(Tag.PROOF, PROOF_BYTES, PROOF_BYTES),
      };
    case Command.SALE_STATUS: {
      const state = (['approved', 'declined', 'unknown'] as const)[f.uint(Tag.SALE_STATE, 1, 0, 2)]!;
      const m: PosMessageOf<'sale-status'> = {
        type: 'sale-status',
        receiptNo: f.uint(Tag.RECEIPT_NO, 4),
        state,
      };
      if (state !== 'unknown') m.recordKind = f.uint(Tag.RECORD_KIND, 1, 0, 1) === 0 ? 'sale' : 'void';
      if (state === 'approved') m.amountFen = f.uint(Tag.AMOUNT_FEN, 4, AMOUNT.min, AMOUNT.max);
      if (state === 'declined') m.reason = reasonOf(f);
      return m;
    }
    case Command.STATUS: {
      const m: PosMessageOf<'status'> = {
        type: 'status',
        offlineCount: f.uint(Tag.OFFLINE_COUNT, 2),
        offlineCapacity: f.uint(Tag.OFFLINE_CAPACITY, 2),
        priceListVersion: f.uint(Tag.PRICE_LIST_VERSION, 4),
        blacklistVersion: f.uint(Tag.BLACKLIST_VERSION, 4),
      };
      if (f.has(Tag.FIRMWARE_VERSION)) m.firmwareVersion = f.ascii(Tag.FIRMWARE_VERSION, 1, MAX_FIRMWARE);
      if (f.has(Tag.PROTOCOL_VERSION)) m.protocolVersion = f.uint(Tag.PROTOCOL_VERSION, 1, 1, 255);
      if (f.has(Tag.MODEL)) m.model = f.ascii(Tag.MODEL, 1, MAX_FIRMWARE);
      if (f.has(Tag.HARDWARE)) m.hardware = f.ascii(Tag.HARDWARE, 1, MAX_FIRMWARE);
      return m;
    }
    case Command.SALE_REQUEST: {
      const receiptNo = f.uint(Tag.RECEIPT_NO, 4);
      const amountFen = f.uint(Tag.AMOUNT_FEN, 4, AMOUNT.min, AMOUNT.max);
      const credential = credentialOf(f, false);
      return {
        type: 'sale-request',
        receiptNo,
        amountFen,
        ...(credential ? { credential } : {}),
        terminalTime: f.uint(Tag.TERMINAL_TIME, 4),
      };
    }
    case Command.VOID_REQUEST:
      return {
        type: 'void-request',
        receiptNo: f.uint(Tag.RECEIPT_NO, 4),
        originalReceiptNo: f.uint(Tag.ORIGINAL_RECEIPT_NO, 4),
        amountFen: f.uint(Tag.AMOUNT_FEN, 4, AMOUNT.min, AMOUNT.max),
        terminalTime: f.uint(Tag.TERMINAL_TIME, 4),
      };
    case Command.OFFLINE_UPLOAD: {
      const items = f.all(Tag.RECORD);
      countOf(items.length, 'RECORD');
      return { type: 'offline-upload', records: items.map(({ value }) => recordOf(value)) };
    }
    case Command.PRICE_LIST_REQUEST:
      return {
        type: 'price-list-request',
        currentVersion: f.uint(Tag.PRICE_LIST_VERSION, 4),
        page: f.uint(Tag.PAGE, 1),
      };
    case Command.BLACKLIST_VERSION_QUERY:
      return { type: 'blacklist-version-query', currentVersion: f.uint(Tag.BLACKLIST_VERSION, 4) };
    case Command.SESSION_OPEN:
      f.uint(Tag.PROTOCOL_VERSION, 1, PROTOCOL_VERSION_2, PROTOCOL_VERSION_2);
      return {
        type: 'session-open',
        keyVersion: f.uint(Tag.KEY_VERSION, 2, 1, 0xffff),
        nonce: f.bytes(Tag.NONCE, NONCE_BYTES, NONCE_BYTES),
      };
    case Command.SESSION_CONFIRM:
      return { type: 'session-confirm', proof: f.bytes(Tag.PROOF, PROOF_BYTES, PROOF_BYTES) };
    case Command.SALE_STATUS_QUERY:
      return { type: 'sale-status-query', receiptNo: f.uint(Tag.RECEIPT_NO, 4) };
    default: {
      const firmware = decodeFirmware(command, f);
      if (firmware) return firmware;
      throw new WireError('UNKNOWN_COMMAND', `command ${name} has no reader`);
    }
  }
}

// ---- writing ---------------------------------------------------------------------------------------

function putCredential(b: TlvBuilder, c: Credential): void {
  if (c.kind === 'card') {
    if (!/^(?:[0-9A-Fa-f]{2}){4,10}$/.test(c.uidHex))
      throw new RangeError('CARD_UID must be 4..10 bytes of hex');
    b.field(Tag.CARD_UID, Buffer.from(c.uidHex, 'hex'));
  } else {
    if (!/^[\x21-\x7e]{1,512}$/.test(c.token))
      throw new RangeError('QR_TOKEN must be 1..512 printable ASCII bytes');
    b.field(Tag.QR_TOKEN, Buffer.from(c.token, 'latin1'));
  }
}

function putDecision(b: TlvBuilder, d: Decision, result: 0 | 1 | 2 = d.outcome === 'approved' ? 0 : 1): void {
  b.uint(Tag.RESULT, 1, result);
  if (result !== 0) {
    if (d.outcome !== 'declined') throw new RangeError(`RESULT ${result} needs a REASON`);
    b.uint(Tag.REASON, 1, DeclineReason[d.reason]);
  }
}

function putText(b: TlvBuilder, tag: number, text: string, max: number): void {
  if (Buffer.byteLength(text, 'utf8') > max)
    throw new RangeError(`text of ${Buffer.byteLength(text)} bytes exceeds ${max}`);
  b.text(tag, text);
}

/** AMOUNT_FEN 0 is encodable on purpose: a simulator must be able to show that the box refuses it (§6.5). */
function putAmount(b: TlvBuilder, amountFen: number): void {
  b.uint(Tag.AMOUNT_FEN, 4, amountFen);
}

function fixed(buf: Buffer, n: number, what: string): Buffer {
  if (buf.length !== n) throw new RangeError(`${what} must be ${n} bytes`);
  return buf;
}

/** The fields of one RECORD before its RECORD_MAC: what the RECORD_MAC covers (§7.8). */
export function recordFields(r: OfflineRecord): Buffer {
  const b = new TlvBuilder()
    .uint(Tag.RECORD_KIND, 1, r.kind === 'sale' ? 0 : 1)
    .uint(Tag.RECEIPT_NO, 4, r.receiptNo);
  putAmount(b, r.amountFen);
  putCredential(b, r.credential);
  b.uint(Tag.TERMINAL_TIME, 4, r.terminalTime);
  if (r.kind === 'void') {
    if (r.originalReceiptNo === undefined) throw new RangeError('a void RECORD needs ORIGINAL_RECEIPT_NO');
    b.uint(Tag.ORIGINAL_RECEIPT_NO, 4, r.originalReceiptNo);
  }
  return b.build();
}

function recordBytes(r: OfflineRecord): Buffer {
  const fields = recordFields(r);
  if (!r.recordMac) return fields;
  return Buffer.concat([
    fields,
    new TlvBuilder().field(Tag.RECORD_MAC, fixed(r.recordMac, MAC_BYTES, 'RECORD_MAC')).build(),
  ]);
}

function bodyOf(m: PosMessage): TlvBuilder {
  const b = new TlvBuilder();
  switch (m.type) {
    case 'ack':
      return b;
    case 'nak':
      return b.uint(Tag.NAK_REASON, 1, NakReason[m.reason]);
    case 'poll':
      if (m.priceListVersion !== undefined) b.uint(Tag.PRICE_LIST_VERSION, 4, m.priceListVersion);
      if (m.blacklistVersion !== undefined) b.uint(Tag.BLACKLIST_VERSION, 4, m.blacklistVersion);
      return b;
    case 'time-sync':
      return b.uint(Tag.UTC_TIME_MS, 8, m.utcMs).i16(Tag.TZ_OFFSET_MIN, m.tzOffsetMinutes);
    case 'sale-result':
      b.uint(Tag.RECEIPT_NO, 4, m.receiptNo);
      putDecision(b, m.decision);
      if (m.balanceFen !== undefined) b.uint(Tag.BALANCE_FEN, 4, m.balanceFen);
      putText(b, Tag.DISPLAY_TEXT, m.displayText, MAX_TEXT);
      return b;
    case 'void-result':
      b.uint(Tag.RECEIPT_NO, 4, m.receiptNo);
      putDecision(b, m.decision);
      putText(b, Tag.DISPLAY_TEXT, m.displayText, MAX_TEXT);
      return b;
    case 'upload-result':
      if (m.results.length < 1 || m.results.length > MAX_RECORDS_PER_UPLOAD)
        throw new RangeError('1..32 RECORD_RESULTs');
      for (const r of m.results) {
        const inner = new TlvBuilder().uint(Tag.RECEIPT_NO, 4, r.receiptNo);
        putDecision(inner, r.decision, r.result);
        b.nested(Tag.RECORD_RESULT, inner);
      }
      return b;
    case 'price-list':
      b.uint(Tag.PRICE_LIST_VERSION, 4, m.version)
        .uint(Tag.PAGE, 1, m.page)
        .uint(Tag.PAGE_COUNT, 1, m.pageCount);
      for (const item of m.items) {
        const inner = new TlvBuilder().uint(Tag.ITEM_CODE, 2, item.code);
        putText(inner, Tag.ITEM_NAME, item.name, MAX_ITEM_NAME);
        b.nested(Tag.PRICE_ITEM, inner.uint(Tag.AMOUNT_FEN, 4, item.priceFen));
      }
      return b;
    case 'blacklist-version':
      return b.uint(Tag.BLACKLIST_VERSION, 4, m.version);
    case 'session-challenge':
      return b
        .field(Tag.NONCE, fixed(m.nonce, NONCE_BYTES, 'NONCE'))
        .field(Tag.PROOF, fixed(m.proof, PROOF_BYTES, 'PROOF'));
    case 'sale-status':
      b.uint(Tag.RECEIPT_NO, 4, m.receiptNo).uint(
        Tag.SALE_STATE,
        1,
        ['approved', 'declined', 'unknown'].indexOf(m.state),
      );
      if (m.state !== 'unknown') b.uint(Tag.RECORD_KIND, 1, m.recordKind === 'void' ? 1 : 0);
      if (m.state === 'approved') putAmount(b, m.amountFen ?? 0);
      if (m.state === 'declined') b.uint(Tag.REASON, 1, DeclineReason[m.reason ?? 'SYSTEM_ERROR']);
      return b;
    case 'status':
      b.uint(Tag.OFFLINE_COUNT, 2, m.offlineCount)
        .uint(Tag.OFFLINE_CAPACITY, 2, m.offlineCapacity)
        .uint(Tag.PRICE_LIST_VERSION, 4, m.priceListVersion)
        .uint(Tag.BLACKLIST_VERSION, 4, m.blacklistVersion);
      if (m.firmwareVersion !== undefined)
        b.field(Tag.FIRMWARE_VERSION, Buffer.from(m.firmwareVersion, 'latin1'));
      if (m.protocolVersion !== undefined) b.uint(Tag.PROTOCOL_VERSION, 1, m.protocolVersion);
      if (m.model !== undefined) b.field(Tag.MODEL, Buffer.from(m.model, 'latin1'));
      if (m.hardware !== undefined) b.field(Tag.HARDWARE, Buffer.from(m.hardware, 'latin1'));
      return b;
    case 'sale-request':
      b.uint(Tag.RECEIPT_NO, 4, m.receiptNo);
      putAmount(b, m.amountFen);
      if (m.credential) putCredential(b, m.credential);
      return b.uint(Tag.TERMINAL_TIME, 4, m.terminalTime);
    case 'void-request':
      b.uint(Tag.RECEIPT_NO, 4, m.receiptNo).uint(Tag.ORIGINAL_RECEIPT_NO, 4, m.originalReceiptNo);
      putAmount(b, m.amountFen);
      return b.uint(Tag.TERMINAL_TIME, 4, m.terminalTime);
    case 'offline-upload':
      if (m.records.length < 1 || m.records.length > MAX_RECORDS_PER_UPLOAD)
        throw new RangeError('1..32 RECORDs per upload');
      for (const r of m.records) b.nested(Tag.RECORD, recordBytes(r));
      return b;
    case 'price-list-request':
      return b.uint(Tag.PRICE_LIST_VERSION, 4, m.currentVersion).uint(Tag.PAGE, 1, m.page);
    case 'blacklist-version-query':
      return b.uint(Tag.BLACKLIST_VERSION, 4, m.currentVersion);
    case 'session-open':
      return b
        .uint(Tag.PROTOCOL_VERSION, 1, PROTOCOL_VERSION_2)
        .uint(Tag.KEY_VERSION, 2, m.keyVersion)
        .field(Tag.NONCE, fixed(m.nonce, NONCE_BYTES, 'NONCE'));
    case 'session-confirm':
      return b.field(Tag.PROOF, fixed(m.proof, PROOF_BYTES, 'PROOF'));
    case 'sale-status-query':
      return b.uint(Tag.RECEIPT_NO, 4, m.receiptNo);
    default:
      return firmwareBody(b, m);
  }
}

export function encodeBody(m: PosMessage): { command: number; body: Buffer } {
  const body = bodyOf(m).build();
  if (body.length > MAX_BODY_LENGTH)
    throw new RangeError(`${m.type} body of ${body.length} bytes exceeds ${MAX_BODY_LENGTH}`);
  return { command: COMMAND_OF[m.type], body };
}
