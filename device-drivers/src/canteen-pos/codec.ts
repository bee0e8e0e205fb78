import { DriverError } from '../driver-error.ts';
import { decodeFirmwareMessage, writeFirmwareBody } from './firmware-codec.ts';
import { encodeFrame, type FrameFields, MAX_BODY_LENGTH } from './framing.ts';
import {
  Command,
  type Credential,
  type Decision,
  DeclineReason,
  MAC_BYTES,
  MAX_CARD_UID_BYTES,
  MAX_DISPLAY_TEXT_BYTES,
  MAX_FIRMWARE_VERSION_BYTES,
  MAX_ITEM_NAME_BYTES,
  MAX_MODEL_BYTES,
  MAX_QR_TOKEN_BYTES,
  MAX_RECORDS_PER_UPLOAD,
  MESSAGE_COMMAND,
  MIN_CARD_UID_BYTES,
  NakReason,
  NONCE_BYTES,
  nameOf,
  type OfflineRecord,
  type PosMessage,
  PROOF_BYTES,
  type PriceItem,
  type RecordResult,
  type SaleState,
  Tag,
} from './messages.ts';
import { parseTlv, TlvReader, TlvWriter } from './tlv.ts';

/**
 * Pure frame ⇄ message mapping (docs/protocols/canteen-pos.md §6–§7). Every reject is a DriverError with
 * a stable code (POS_UNKNOWN_COMMAND, POS_TLV_MALFORMED, POS_FIELD_MISSING, POS_FIELD_INVALID,
 * POS_FRAME_LENGTH), which the driver turns into a NAK reason and a frame-error event.
 */

const RESULT_APPROVED = 0;
const RESULT_DECLINED = 1;
/** RECORD_RESULT only: RESULT 1 is "recorded, with a finding"; RESULT 2 is "not recorded". */
const RESULT_RECORDED = 0;
const RESULT_FLAGGED = 1;
const RESULT_REFUSED = 2;
const RECORD_KIND_SALE = 0;
const RECORD_KIND_VOID = 1;
const SALE_STATE_APPROVED = 0;
const SALE_STATE_DECLINED = 1;
const SALE_STATE_UNKNOWN = 2;

/** AMOUNT_FEN of a sale, void or record: 1..0xFFFFFFFF. Zero is a field error (contract: Field rules), never a decline. */
function readAmount(r: TlvReader): number {
  const amount = r.u32(Tag.AMOUNT_FEN);
  if (amount === 0) throw new DriverError('POS_FIELD_INVALID', 'AMOUNT_FEN: 0 fen is not a sale');
  return amount;
}

function checkAmount(amountFen: number): void {
  if (amountFen === 0) throw new DriverError('POS_FIELD_INVALID', 'AMOUNT_FEN: 0 fen is not a sale');
}

// ---- decoding ---------------------------------------------------------------------------------------

function readCredential(r: TlvReader): Credential {
  const credential = readOptionalCredential(r);
  if (credential) return credential;
  throw new DriverError('POS_FIELD_MISSING', 'one of CARD_UID or QR_TOKEN is required');
}

function readOptionalCredential(r: TlvReader): Credential | undefined {
  const hasCard = r.has(Tag.CARD_UID);
  const hasQr = r.has(Tag.QR_TOKEN);
  if (hasCard && hasQr)
    throw new DriverError('POS_FIELD_INVALID', 'CARD_UID and QR_TOKEN are mutually exclusive');
  if (hasCard) {
    return {
      kind: 'card',
      uidHex: r.bytes(Tag.CARD_UID, MIN_CARD_UID_BYTES, MAX_CARD_UID_BYTES).toString('hex').toUpperCase(),
    };
  }
  if (hasQr) return { kind: 'qr', token: r.ascii(Tag.QR_TOKEN, 1, MAX_QR_TOKEN_BYTES) };
  return undefined;
}

function readReason(r: TlvReader) {
  const code = r.u8(Tag.REASON);
  const reason = nameOf(DeclineReason, code);
  if (!reason)
    throw new DriverError('POS_FIELD_INVALID', `REASON 0x${code.toString(16)} is not a decline reason`);
  return reason;
}

function readRecordResult(value: Buffer): RecordResult {
  const r = TlvReader.of(value, 'RECORD_RESULT');
  const receiptNo = r.u32(Tag.RECEIPT_NO);
  const result = r.u8(Tag.RESULT);
  if (result === RESULT_RECORDED) return { receiptNo, result: 'recorded' };
  if (result === RESULT_FLAGGED) return { receiptNo, result: 'flagged', reason: readReason(r) };
  if (result === RESULT_REFUSED) return { receiptNo, result: 'refused', reason: readReason(r) };
  throw new DriverError('POS_FIELD_INVALID', `RECORD_RESULT RESULT ${result} is not 0, 1 or 2`);
}

function readKind(r: TlvReader): 'sale' | 'void' {
  const kindCode = r.u8(Tag.RECORD_KIND);
  if (kindCode !== RECORD_KIND_SALE && kindCode !== RECORD_KIND_VOID) {
    throw new DriverError('POS_FIELD_INVALID', `RECORD_KIND ${kindCode} is neither 0 (sale) nor 1 (void)`);
  }
  return kindCode === RECORD_KIND_SALE ? 'sale' : 'void';
}

function readSaleState(r: TlvReader): SaleState {
  const state = r.u8(Tag.SALE_STATE);
  if (state === SALE_STATE_UNKNOWN) return { state: 'unknown' };
  if (state === SALE_STATE_APPROVED)
    return { state: 'approved', kind: readKind(r), amountFen: readAmount(r) };
  if (state === SALE_STATE_DECLINED) return { state: 'declined', kind: readKind(r), reason: readReason(r) };
  throw new DriverError('POS_FIELD_INVALID', `SALE_STATE ${state} is not 0, 1 or 2`);
}

function readDecision(r: TlvReader): Decision {
  const result = r.u8(Tag.RESULT);
  if (result === RESULT_APPROVED) return { outcome: 'approved' };
  if (result !== RESULT_DECLINED)
    throw new DriverError('POS_FIELD_INVALID', `RESULT ${result} is neither 0 nor 1`);
  const code = r.u8(Tag.REASON);
  const reason = nameOf(DeclineReason, code);
  if (!reason)
    throw new DriverError('POS_FIELD_INVALID', `REASON 0x${code.toString(16)} is not a decline reason`);
  return { outcome: 'declined', reason };
}

function readRecord(value: Buffer): OfflineRecord {
  const fields = parseTlv(value);
  const r = new TlvReader(fields, 'RECORD');
  const record: OfflineRecord = {
    kind: readKind(r),
    receiptNo: r.u32(Tag.RECEIPT_NO),
    amountFen: readAmount(r),
    credential: readCredential(r),
    terminalTime: r.u32(Tag.TERMINAL_TIME),
  };
  if (record.kind === 'void') record.originalReceiptNo = r.u32(Tag.ORIGINAL_RECEIPT_NO);
  if (r.has(Tag.RECORD_MAC)) {
    // The MAC covers the record's bytes before it, as sent: it must be the last field, or a field
    // after it would ride along unsigned.
    if (fields.at(-1)?.tag !== Tag.RECORD_MAC) {
      throw new DriverError('POS_FIELD_INVALID', 'RECORD_MAC must be the last field of a RECORD');
    }
    const mac = r.bytes(Tag.RECORD_MAC, MAC_BYTES, MAC_BYTES);
    record.recordMac = { mac, signed: value.subarray(0, value.length - 3 - MAC_BYTES) };
  }
  return record;
}

function readCount<T>(
  items: Buffer[],
  what: string,
  min: number,
  max: number,
  read: (v: Buffer) => T,
  tooFew: 'POS_FIELD_MISSING' | 'POS_FIELD_INVALID' = 'POS_FIELD_MISSING',
): T[] {
  if (items.length < min || items.length > max) {
    const code = items.length < min ? tooFew : 'POS_FIELD_INVALID';
    throw new DriverError(code, `${what}: ${items.length} entries, expected ${min}..${max}`);
  }
  return items.map(read);
}

function readPage(r: TlvReader): { page: number; pageCount: number } {
  const page = r.u8(Tag.PAGE);
  const pageCount = r.u8(Tag.PAGE_COUNT);
  if (pageCount < 1 || page >= pageCount) {
    throw new DriverError('POS_FIELD_INVALID', `PAGE ${page} of PAGE_COUNT ${pageCount} is out of range`);
  }
  return { page, pageCount };
}

/** Decodes one frame's command and TLV body; address and seq stay with the frame. */
export function decodeMessage(frame: { command: number; body: Uint8Array }): PosMessage {
  const ctx = nameOf(Command, frame.command);
  if (!ctx) {
    throw new DriverError(
      'POS_UNKNOWN_COMMAND',
      `command 0x${frame.command.toString(16).padStart(2, '0')} is not defined`,
    );
  }
  const r = TlvReader.of(frame.body, ctx);
  switch (frame.command) {
    case Command.ACK:
      return { type: 'ack' };
    case Command.NAK: {
      const code = r.u8(Tag.NAK_REASON);
      const reason = nameOf(NakReason, code);
      if (!reason)
        throw new DriverError('POS_FIELD_INVALID', `NAK_REASON 0x${code.toString(16)} is not defined`);
      return { type: 'nak', reason };
    }
    case Command.POLL: {
      const msg: PosMessage = { type: 'poll' };
      if (r.has(Tag.PRICE_LIST_VERSION)) msg.priceListVersion = r.u32(Tag.PRICE_LIST_VERSION);
      if (r.has(Tag.BLACKLIST_VERSION)) msg.blacklistVersion = r.u32(Tag.BLACKLIST_VERSION);
      return msg;
    }
    case Command.TIME_SYNC:
      return { type: 'time-sync', utcMs: r.u64(Tag.UTC_TIME_MS), tzOffsetMinutes: r.i16(Tag.TZ_OFFSET_MIN) };
    case Command.SALE_RESULT: {
      const msg: PosMessage = {
        type: 'sale-result',
        receiptNo: r.u32(Tag.RECEIPT_NO),
        decision: readDecision(r),
        displayText: r.text(Tag.DISPLAY_TEXT, 0, MAX_DISPLAY_TEXT_BYTES),
      };
      if (r.has(Tag.BALANCE_FEN)) msg.balanceFen = r.u32(Tag.BALANCE_FEN);
      return msg;
    }
    case Command.VOID_RESULT:
      return {
        type: 'void-result',
        receiptNo: r.u32(Tag.RECEIPT_NO),
        decision: readDecision(r),
        displayText: r.text(Tag.DISPLAY_TEXT, 0, MAX_DISPLAY_TEXT_BYTES),
      };
    case Command.UPLOAD_RESULT:
      return {
        type: 'upload-result',
        results: readCount(
          r.all(Tag.RECORD_RESULT),
          'RECORD_RESULT',
          1,
          MAX_RECORDS_PER_UPLOAD,
          readRecordResult,
        ),
      };
    case Command.PRICE_LIST:
      return {
        type: 'price-list',
        version: r.u32(Tag.PRICE_LIST_VERSION),
        ...readPage(r),
        items: r.all(Tag.PRICE_ITEM).map((v) => {
          const ir = TlvReader.of(v, 'PRICE_ITEM');
          return {
            code: ir.u16(Tag.ITEM_CODE),
            name: ir.text(Tag.ITEM_NAME, 0, MAX_ITEM_NAME_BYTES),
            priceFen: ir.u32(Tag.AMOUNT_FEN),
          } satisfies PriceItem;
        }),
      };
    case Command.BLACKLIST_VERSION:
      return { type: 'blacklist-version', version: r.u32(Tag.BLACKLIST_VERSION) };
    case Command.SESSION_CHALLENGE:
      return {
        type: 'session-challenge',
        nonce: r.bytes(Tag.NONCE, NONCE_BYTES, NONCE_BYTES),
        proof: r.bytes(Tag.PROOF, PROOF_BYTES, PROOF_BYTES),
      };
    case Command.SALE_STATUS:
      return { type: 'sale-status', receiptNo: r.u32(Tag.RECEIPT_NO), status: readSaleState(r) };
    case Command.SESSION_OPEN: {
      const protocolVersion = r.u8(Tag.PROTOCOL_VERSION);
      const keyVersion = r.u16(Tag.KEY_VERSION);
      if (keyVersion === 0) throw new DriverError('POS_FIELD_INVALID', 'KEY_VERSION: 0 is not a key version');
      return {
        type: 'session-open',
        protocolVersion,
        keyVersion,
        nonce: r.bytes(Tag.NONCE, NONCE_BYTES, NONCE_BYTES),
      };
    }
    case Command.SESSION_CONFIRM:
      return { type: 'session-confirm', proof: r.bytes(Tag.PROOF, PROOF_BYTES, PROOF_BYTES) };
    case Command.SALE_STATUS_QUERY:
      return { type: 'sale-status-query', receiptNo: r.u32(Tag.RECEIPT_NO) };
    case Command.STATUS: {
      const msg: PosMessage = {
        type: 'status',
        offlineCount: r.u16(Tag.OFFLINE_COUNT),
        offlineCapacity: r.u16(Tag.OFFLINE_CAPACITY),
        priceListVersion: r.u32(Tag.PRICE_LIST_VERSION),
        blacklistVersion: r.u32(Tag.BLACKLIST_VERSION),
      };
      if (r.has(Tag.FIRMWARE_VERSION)) {
        msg.firmwareVersion = r.ascii(Tag.FIRMWARE_VERSION, 1, MAX_FIRMWARE_VERSION_BYTES);
      }
      if (r.has(Tag.PROTOCOL_VERSION)) msg.protocolVersion = r.u8(Tag.PROTOCOL_VERSION);
      if (r.has(Tag.MODEL)) msg.model = r.ascii(Tag.MODEL, 1, MAX_MODEL_BYTES);
      if (r.has(Tag.HARDWARE)) msg.hardware = r.ascii(Tag.HARDWARE, 1, MAX_MODEL_BYTES);
      return msg;
    }
    case Command.SALE_REQUEST: {
      const receiptNo = r.u32(Tag.RECEIPT_NO);
      const amountFen = readAmount(r);
      // A live sale may come without a credential from a till whose reader is a separate USB device
      // (doc §7.5); an offline record always carries one, as the terminal decided it alone.
      const credential = readOptionalCredential(r);
      return {
        type: 'sale-request',
        receiptNo,
        amountFen,
        ...(credential ? { credential } : {}),
        terminalTime: r.u32(Tag.TERMINAL_TIME),
      };
    }
    case Command.VOID_REQUEST:
      return {
        type: 'void-request',
        receiptNo: r.u32(Tag.RECEIPT_NO),
        originalReceiptNo: r.u32(Tag.ORIGINAL_RECEIPT_NO),
        amountFen: readAmount(r),
        terminalTime: r.u32(Tag.TERMINAL_TIME),
      };
    case Command.OFFLINE_UPLOAD:
      return {
        type: 'offline-upload',
        // 0 or more than 32 records: FIELD_INVALID either way (contract), so the till sees one reason.
        records: readCount(
          r.all(Tag.RECORD),
          'RECORD',
          1,
          MAX_RECORDS_PER_UPLOAD,
          readRecord,
          'POS_FIELD_INVALID',
        ),
      };
    case Command.PRICE_LIST_REQUEST:
      return {
        type: 'price-list-request',
        currentVersion: r.u32(Tag.PRICE_LIST_VERSION),
        page: r.u8(Tag.PAGE),
      };
    case Command.BLACKLIST_VERSION_QUERY:
      return { type: 'blacklist-version-query', currentVersion: r.u32(Tag.BLACKLIST_VERSION) };
    default: {
      const firmware = decodeFirmwareMessage(frame.command, r);
      if (firmware) return firmware;
      throw new DriverError('POS_UNKNOWN_COMMAND', `command ${ctx} has no decoder`);
    }
  }
}

// ---- encoding ---------------------------------------------------------------------------------------

const UID_HEX = /^(?:[0-9A-Fa-f]{2}){4,10}$/;

function writeCredential(w: TlvWriter, credential: Credential): void {
  if (credential.kind === 'card') {
    if (!UID_HEX.test(credential.uidHex)) {
      throw new DriverError('POS_FIELD_INVALID', 'CARD_UID: expected 4..10 bytes of hex');
    }
    w.bytes(Tag.CARD_UID, Buffer.from(credential.uidHex, 'hex'), MIN_CARD_UID_BYTES, MAX_CARD_UID_BYTES);
  } else {
    w.ascii(Tag.QR_TOKEN, credential.token, 1, MAX_QR_TOKEN_BYTES);
  }
}

function writeDecision(w: TlvWriter, decision: Decision): void {
  if (decision.outcome === 'approved') {
    w.u8(Tag.RESULT, RESULT_APPROVED);
    return;
  }
  const code = DeclineReason[decision.reason];
  if (code === undefined)
    throw new DriverError('POS_FIELD_INVALID', `unknown decline reason ${decision.reason}`);
  w.u8(Tag.RESULT, RESULT_DECLINED).u8(Tag.REASON, code);
}

function writeReason(w: TlvWriter, reason: keyof typeof DeclineReason): void {
  const code = DeclineReason[reason];
  if (code === undefined) throw new DriverError('POS_FIELD_INVALID', `unknown decline reason ${reason}`);
  w.u8(Tag.REASON, code);
}

function writeRecordResult(result: RecordResult): TlvWriter {
  const w = new TlvWriter().u32(Tag.RECEIPT_NO, result.receiptNo);
  if (result.result === 'recorded') return w.u8(Tag.RESULT, RESULT_RECORDED);
  w.u8(Tag.RESULT, result.result === 'flagged' ? RESULT_FLAGGED : RESULT_REFUSED);
  writeReason(w, result.reason);
  return w;
}

function writeSaleState(w: TlvWriter, status: SaleState): void {
  if (status.state === 'unknown') {
    w.u8(Tag.SALE_STATE, SALE_STATE_UNKNOWN);
    return;
  }
  const kind = status.kind === 'sale' ? RECORD_KIND_SALE : RECORD_KIND_VOID;
  if (status.state === 'approved') {
    checkAmount(status.amountFen);
    w.u8(Tag.SALE_STATE, SALE_STATE_APPROVED).u8(Tag.RECORD_KIND, kind).u32(Tag.AMOUNT_FEN, status.amountFen);
    return;
  }
  w.u8(Tag.SALE_STATE, SALE_STATE_DECLINED).u8(Tag.RECORD_KIND, kind);
  writeReason(w, status.reason);
}

/**
 * A RECORD's fields without its RECORD_MAC: the bytes the till's record MAC covers (contract: Offline
 * record MAC). Exported so a till (a test's) can MAC exactly what the box will check.
 */
export function encodeRecordFields(record: OfflineRecord): Buffer {
  checkAmount(record.amountFen);
  const inner = new TlvWriter()
    .u8(Tag.RECORD_KIND, record.kind === 'sale' ? RECORD_KIND_SALE : RECORD_KIND_VOID)
    .u32(Tag.RECEIPT_NO, record.receiptNo)
    .u32(Tag.AMOUNT_FEN, record.amountFen);
  writeCredential(inner, record.credential);
  inner.u32(Tag.TERMINAL_TIME, record.terminalTime);
  if (record.kind === 'void') {
    if (record.originalReceiptNo === undefined) {
      throw new DriverError('POS_FIELD_MISSING', 'a void RECORD needs ORIGINAL_RECEIPT_NO');
    }
    inner.u32(Tag.ORIGINAL_RECEIPT_NO, record.originalReceiptNo);
  }
  return inner.toBuffer();
}

function checkCount(what: string, n: number, min: number, max: number): void {
  if (n < min || n > max)
    throw new DriverError('POS_FIELD_INVALID', `${what}: ${n} entries, expected ${min}..${max}`);
}

function writeBody(msg: PosMessage): TlvWriter {
  const w = new TlvWriter();
  switch (msg.type) {
    case 'ack':
      return w;
    case 'nak': {
      const code = NakReason[msg.reason];
      if (code === undefined) throw new DriverError('POS_FIELD_INVALID', `unknown NAK reason ${msg.reason}`);
      return w.u8(Tag.NAK_REASON, code);
    }
    case 'poll':
      if (msg.priceListVersion !== undefined) w.u32(Tag.PRICE_LIST_VERSION, msg.priceListVersion);
      if (msg.blacklistVersion !== undefined) w.u32(Tag.BLACKLIST_VERSION, msg.blacklistVersion);
      return w;
    case 'time-sync':
      return w.u64(Tag.UTC_TIME_MS, msg.utcMs).i16(Tag.TZ_OFFSET_MIN, msg.tzOffsetMinutes);
    case 'sale-result':
      w.u32(Tag.RECEIPT_NO, msg.receiptNo);
      writeDecision(w, msg.decision);
      if (msg.balanceFen !== undefined) w.u32(Tag.BALANCE_FEN, msg.balanceFen);
      return w.text(Tag.DISPLAY_TEXT, msg.displayText, 0, MAX_DISPLAY_TEXT_BYTES);
    case 'void-result':
      w.u32(Tag.RECEIPT_NO, msg.receiptNo);
      writeDecision(w, msg.decision);
      return w.text(Tag.DISPLAY_TEXT, msg.displayText, 0, MAX_DISPLAY_TEXT_BYTES);
    case 'upload-result':
      checkCount('RECORD_RESULT', msg.results.length, 1, MAX_RECORDS_PER_UPLOAD);
      for (const result of msg.results) w.nested(Tag.RECORD_RESULT, writeRecordResult(result));
      return w;
    case 'price-list':
      if (msg.pageCount < 1 || msg.page >= msg.pageCount) {
        throw new DriverError(
          'POS_FIELD_INVALID',
          `PAGE ${msg.page} of PAGE_COUNT ${msg.pageCount} is out of range`,
        );
      }
      w.u32(Tag.PRICE_LIST_VERSION, msg.version).u8(Tag.PAGE, msg.page).u8(Tag.PAGE_COUNT, msg.pageCount);
      for (const item of msg.items) {
        const inner = new TlvWriter()
          .u16(Tag.ITEM_CODE, item.code)
          .text(Tag.ITEM_NAME, item.name, 0, MAX_ITEM_NAME_BYTES)
          .u32(Tag.AMOUNT_FEN, item.priceFen);
        w.nested(Tag.PRICE_ITEM, inner);
      }
      return w;
    case 'blacklist-version':
      return w.u32(Tag.BLACKLIST_VERSION, msg.version);
    case 'session-challenge':
      return w
        .bytes(Tag.NONCE, msg.nonce, NONCE_BYTES, NONCE_BYTES)
        .bytes(Tag.PROOF, msg.proof, PROOF_BYTES, PROOF_BYTES);
    case 'sale-status':
      w.u32(Tag.RECEIPT_NO, msg.receiptNo);
      writeSaleState(w, msg.status);
      return w;
    case 'session-open':
      if (msg.keyVersion === 0)
        throw new DriverError('POS_FIELD_INVALID', 'KEY_VERSION: 0 is not a key version');
      return w
        .u8(Tag.PROTOCOL_VERSION, msg.protocolVersion)
        .u16(Tag.KEY_VERSION, msg.keyVersion)
        .bytes(Tag.NONCE, msg.nonce, NONCE_BYTES, NONCE_BYTES);
    case 'session-confirm':
      return w.bytes(Tag.PROOF, msg.proof, PROOF_BYTES, PROOF_BYTES);
    case 'sale-status-query':
      return w.u32(Tag.RECEIPT_NO, msg.receiptNo);
    case 'status':
      w.u16(Tag.OFFLINE_COUNT, msg.offlineCount)
        .u16(Tag.OFFLINE_CAPACITY, msg.offlineCapacity)
        .u32(Tag.PRICE_LIST_VERSION, msg.priceListVersion)
        .u32(Tag.BLACKLIST_VERSION, msg.blacklistVersion);
      if (msg.firmwareVersion !== undefined) {
        w.ascii(Tag.FIRMWARE_VERSION, msg.firmwareVersion, 1, MAX_FIRMWARE_VERSION_BYTES);
      }
      if (msg.protocolVersion !== undefined) w.u8(Tag.PROTOCOL_VERSION, msg.protocolVersion);
      if (msg.model !== undefined) w.ascii(Tag.MODEL, msg.model, 1, MAX_MODEL_BYTES);
      if (msg.hardware !== undefined) w.ascii(Tag.HARDWARE, msg.hardware, 1, MAX_MODEL_BYTES);
      return w;
    case 'sale-request':
      checkAmount(msg.amountFen);
      w.u32(Tag.RECEIPT_NO, msg.receiptNo).u32(Tag.AMOUNT_FEN, msg.amountFen);
      if (msg.credential) writeCredential(w, msg.credential);
      return w.u32(Tag.TERMINAL_TIME, msg.terminalTime);
    case 'void-request':
      checkAmount(msg.amountFen);
      return w
        .u32(Tag.RECEIPT_NO, msg.receiptNo)
        .u32(Tag.ORIGINAL_RECEIPT_NO, msg.originalReceiptNo)
        .u32(Tag.AMOUNT_FEN, msg.amountFen)
        .u32(Tag.TERMINAL_TIME, msg.terminalTime);
    case 'offline-upload':
      checkCount('RECORD', msg.records.length, 1, MAX_RECORDS_PER_UPLOAD);
      for (const record of msg.records) {
        const inner = new TlvWriter().raw(encodeRecordFields(record));
        if (record.recordMac) inner.bytes(Tag.RECORD_MAC, record.recordMac.mac, MAC_BYTES, MAC_BYTES);
        w.nested(Tag.RECORD, inner);
      }
      return w;
    case 'price-list-request':
      return w.u32(Tag.PRICE_LIST_VERSION, msg.currentVersion).u8(Tag.PAGE, msg.page);
    case 'blacklist-version-query':
      return w.u32(Tag.BLACKLIST_VERSION, msg.currentVersion);
    default:
      if (!writeFirmwareBody(w, msg))
        throw new DriverError('POS_FIELD_INVALID', `no encoder for ${msg.type}`);
      return w;
  }
}

/** Message → the command and body of a frame. Throws DriverError on any out-of-range value or an oversize body. */
export function encodeMessage(msg: PosMessage): { command: number; body: Buffer } {
  const body = writeBody(msg).toBuffer();
  if (body.length > MAX_BODY_LENGTH) {
    throw new DriverError(
      'POS_FRAME_LENGTH',
      `${msg.type} body is ${body.length} bytes; the maximum is ${MAX_BODY_LENGTH}: split it (fewer records or items per frame)`,
    );
  }
  return { command: MESSAGE_COMMAND[msg.type], body };
}

/** Convenience for drivers and simulators: one message to the bytes on the wire. */
export function encodePosFrame(address: number, seq: number, msg: PosMessage): Buffer {
  return encodeFrame({ address, seq, ...encodeMessage(msg) } satisfies FrameFields);
}
