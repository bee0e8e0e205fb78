import type { DeclineReasonName, PaymentCredential } from '../driver-api.ts';

/**
 * Canteen POS application messages (docs/protocols/canteen-pos.md §6–§7): the command bytes, the TLV
 * tags, the decline reasons, and the typed messages they decode to. Address and seq belong to the
 * frame, not the message, so the same message type serves both topologies.
 */

/** Command byte of a frame. 0x3x flow box → terminal, 0x4x terminal → box, ACK/NAK both ways. */
export const Command = {
  ACK: 0x06,
  NAK: 0x15,
  POLL: 0x30,
  TIME_SYNC: 0x31,
  SALE_RESULT: 0x32,
  VOID_RESULT: 0x33,
  UPLOAD_RESULT: 0x34,
  PRICE_LIST: 0x35,
  BLACKLIST_VERSION: 0x36,
  SESSION_CHALLENGE: 0x37,
  SALE_STATUS: 0x38,
  FW_BEGIN: 0x39,
  FW_CHUNK: 0x3a,
  FW_STATUS_QUERY: 0x3b,
  FW_ACTIVATE: 0x3c,
  FW_ROLLBACK: 0x3d,
  STATUS: 0x40,
  SALE_REQUEST: 0x41,
  VOID_REQUEST: 0x42,
  OFFLINE_UPLOAD: 0x43,
  PRICE_LIST_REQUEST: 0x44,
  BLACKLIST_VERSION_QUERY: 0x45,
  SESSION_OPEN: 0x46,
  SESSION_CONFIRM: 0x47,
  SALE_STATUS_QUERY: 0x48,
  FW_CHUNK_ACK: 0x49,
  FW_STATUS: 0x4a,
} as const;
export type CommandName = keyof typeof Command;

/** TLV tags: tag (1 byte) | length (u16 BE) | value. Receivers ignore tags they do not know. */
export const Tag = {
  RECEIPT_NO: 0x01,
  AMOUNT_FEN: 0x02,
  CARD_UID: 0x03,
  QR_TOKEN: 0x04,
  TERMINAL_TIME: 0x05,
  RESULT: 0x06,
  REASON: 0x07,
  BALANCE_FEN: 0x08,
  DISPLAY_TEXT: 0x09,
  ORIGINAL_RECEIPT_NO: 0x0a,
  UTC_TIME_MS: 0x0b,
  TZ_OFFSET_MIN: 0x0c,
  RECORD: 0x0d,
  RECORD_RESULT: 0x0e,
  PRICE_LIST_VERSION: 0x0f,
  PRICE_ITEM: 0x10,
  ITEM_CODE: 0x11,
  ITEM_NAME: 0x12,
  BLACKLIST_VERSION: 0x13,
  OFFLINE_COUNT: 0x14,
  OFFLINE_CAPACITY: 0x15,
  FIRMWARE_VERSION: 0x16,
  RECORD_KIND: 0x17,
  NAK_REASON: 0x18,
  PAGE: 0x19,
  PAGE_COUNT: 0x1a,
  PROTOCOL_VERSION: 0x1b,
  NONCE: 0x1c,
  PROOF: 0x1d,
  MAC_COUNTER: 0x1e,
  MAC: 0x1f,
  RECORD_MAC: 0x20,
  SALE_STATE: 0x21,
  KEY_VERSION: 0x22,
  MODEL: 0x23,
  HARDWARE: 0x24,
  FW_DIGEST: 0x25,
  FW_SIZE: 0x26,
  FW_MANIFEST_SIZE: 0x27,
  FW_SIGNATURE: 0x28,
  FW_OFFSET: 0x29,
  FW_DATA: 0x2a,
  FW_STATE: 0x2b,
  FW_SIGNED: 0x2c,
  FW_PREVIOUS_VERSION: 0x2d,
  FW_LAST_RESULT: 0x2e,
} as const;

/**
 * Why a sale, void or uploaded record was declined: the agent's reason names (driver-api.ts) to wire
 * codes (doc §6.3). `satisfies` makes adding a reason to the agent without a wire code a type error.
 */
export const DeclineReason = {
  INSUFFICIENT_BALANCE: 0x01,
  INSUFFICIENT_LIMIT: 0x02,
  DAILY_LIMIT: 0x03,
  BLACKLISTED: 0x04,
  QR_EXPIRED: 0x05,
  QR_REUSED: 0x06,
  QR_BAD_SIGNATURE: 0x07,
  OFFLINE_LIMIT_REACHED: 0x08,
  FLOOR_LIMIT: 0x09,
  UNKNOWN_ACCOUNT: 0x0a,
  VOID_NOT_FOUND: 0x0b,
  VOID_NOT_ALLOWED: 0x0c,
  DUPLICATE_RECEIPT: 0x0d,
  NO_CREDENTIAL: 0x0e,
  STALE_REQUEST: 0x0f,
  RECORD_MAC_INVALID: 0x10,
  SYSTEM_ERROR: 0xff,
} as const satisfies Record<DeclineReasonName, number>;
export type { DeclineReasonName };

/** Why a receiver refused a frame it could read (good CRC) but not use. */
export const NakReason = {
  UNKNOWN_COMMAND: 0x01,
  TLV_MALFORMED: 0x02,
  FIELD_MISSING: 0x03,
  FIELD_INVALID: 0x04,
  BUSY: 0x05,
  /** v2: a frame that must carry a MAC arrived while no session is open for this address. */
  SESSION_REQUIRED: 0x06,
  /** v2: MAC_COUNTER/MAC missing, not the last two fields, or the MAC does not verify. */
  MAC_INVALID: 0x07,
  /** v2: MAC_COUNTER not greater than the last one accepted from this sender in this session. */
  REPLAYED: 0x08,
  /** v2: no key / unknown KEY_VERSION at SESSION_OPEN, a wrong PROOF, or a CONFIRM without a challenge. */
  AUTH_FAILED: 0x09,
  /** Firmware (§13): FW_CHUNK or FW_ACTIVATE with no complete staged image of that digest. */
  FW_NOT_STAGED: 0x0a,
  /** The manifest's vendor signature does not verify under the till's pinned vendor key. */
  FW_SIGNATURE_INVALID: 0x0b,
  /** The staged image's SM3 (or its size) is not the manifest's, or the manifest not FW_BEGIN's. */
  FW_DIGEST_MISMATCH: 0x0c,
  /** The signed manifest is not for this till (family, model, hardware, minimum previous version). */
  FW_NOT_FOR_THIS_TILL: 0x0d,
  /** FW_ROLLBACK with no bootable signed image in the other slot. */
  FW_NO_PREVIOUS: 0x0e,
  /** FW_BEGIN for an image or manifest larger than the till's slot. */
  FW_TOO_LARGE: 0x0f,
} as const;
export type NakReasonName = keyof typeof NakReason;

export const MAX_CARD_UID_BYTES = 10;
export const MIN_CARD_UID_BYTES = 4;
export const MAX_QR_TOKEN_BYTES = 512;
export const MAX_DISPLAY_TEXT_BYTES = 64;
export const MAX_ITEM_NAME_BYTES = 32;
export const MAX_FIRMWARE_VERSION_BYTES = 32;
export const MAX_RECORDS_PER_UPLOAD = 32;
/** Firmware (§13): SM3 digest, DER SM2 signature bounds, manifest bound, MODEL/HARDWARE text. */
export const FW_DIGEST_BYTES = 32;
export const MIN_FW_SIGNATURE_BYTES = 8;
export const MAX_FW_SIGNATURE_BYTES = 128;
export const MAX_FW_MANIFEST_BYTES = 4 * 1024 * 1024;
export const MAX_MODEL_BYTES = 32;
/**
 * The largest FW_DATA: a FW_CHUNK body of FW_OFFSET (7) + FW_DATA header (3) + data + the MAC fields
 * (26) fits the 4096-byte body. The box sends 2048 by default (§13.3).
 */
export const MAX_FW_DATA_BYTES = 4096 - 7 - 3 - 26;
/** v2 (contract: pos-v2-contract.md): the protocol version a v2 till names, and the sizes of its proofs. */
export const PROTOCOL_V2 = 2;
export const NONCE_BYTES = 16;
export const PROOF_BYTES = 32;
export const MAC_BYTES = 16;
/** MAC_COUNTER (3 + 4) and MAC (3 + 16): the last 19 bytes of every MAC'd body. */
export const MAC_TRAILER_BYTES = 3 + 4 + 3 + MAC_BYTES;

/** The agent's credential type: card UID (upper-case hex) or QR token. Mask before logging (invariant 5). */
export type Credential = PaymentCredential;

export type Decision = { outcome: 'approved' } | { outcome: 'declined'; reason: DeclineReasonName };

export interface OfflineRecord {
  kind: 'sale' | 'void';
  receiptNo: number;
  amountFen: number;
  credential: Credential;
  /** Terminal clock, Unix seconds UTC, when the terminal approved it on its own. */
  terminalTime: number;
  /** Voids only: the receipt being voided. */
  originalReceiptNo?: number;
  /**
   * v2: the RECORD_MAC the till made when the sale happened, and the RECORD's TLV bytes before it as
   * sent (what the MAC covers). Absent from a v1 till.
   */
  recordMac?: { mac: Buffer; signed: Buffer };
}

/**
 * What the box did with one uploaded record (RECORD_RESULT RESULT 0/1/2): recorded; recorded with a
 * finding (the box would have declined it online: the till stops approving that card offline); or
 * refused, not recorded, with the reason.
 */
export type RecordResult =
  | { receiptNo: number; result: 'recorded' }
  | { receiptNo: number; result: 'flagged'; reason: DeclineReasonName }
  | { receiptNo: number; result: 'refused'; reason: DeclineReasonName };

/** SALE_STATUS: what the box's ledger says of a receipt. */
export type SaleState =
  | { state: 'approved'; kind: 'sale' | 'void'; amountFen: number }
  | { state: 'declined'; kind: 'sale' | 'void'; reason: DeclineReasonName }
  | { state: 'unknown' };

/** What a till holds in its inactive slot (FW_STATE 0 idle, 1 receiving, 2 complete). */
export type FirmwareStaging =
  | { state: 'idle' }
  | { state: 'receiving' | 'complete'; digest: Buffer; nextOffset: number };

/** FW_LAST_RESULT: what the last activation or rollback came to (0 none, 1 activated, 2 boot failed, 3 rolled back). */
export const FW_LAST_RESULTS = ['none', 'activated', 'boot-failed', 'rolled-back'] as const;
export type FirmwareLastResult = (typeof FW_LAST_RESULTS)[number];

export interface PriceItem {
  code: number;
  name: string;
  priceFen: number;
}

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
  | { type: 'sale-status'; receiptNo: number; status: SaleState }
  | {
      type: 'status';
      offlineCount: number;
      offlineCapacity: number;
      priceListVersion: number;
      blacklistVersion: number;
      firmwareVersion?: string;
      /** A v2 till sends 2. */
      protocolVersion?: number;
      /** The till's model and hardware revision (what a firmware manifest names, §13). */
      model?: string;
      hardware?: string;
    }
  | {
      type: 'sale-request';
      receiptNo: number;
      amountFen: number;
      /** Absent when the till pays with a separate reader bound to it (doc §7.5). */
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
  | { type: 'session-open'; protocolVersion: number; keyVersion: number; nonce: Buffer }
  | { type: 'session-confirm'; proof: Buffer }
  | { type: 'sale-status-query'; receiptNo: number }
  // Firmware (§13): box frames, all MAC'd in v2, and the till's MAC'd answers.
  | {
      type: 'fw-begin';
      /** SM3 of the image (the manifest's `sm3`): names the transfer, for resume. */
      digest: Buffer;
      size: number;
      /** The signed manifest's bytes come first in the transfer, then the image. */
      manifestSize: number;
      signature: Buffer;
      version: string;
    }
  | { type: 'fw-chunk'; offset: number; data: Buffer }
  | { type: 'fw-status-query' }
  | { type: 'fw-activate'; digest: Buffer }
  | { type: 'fw-rollback' }
  | { type: 'fw-chunk-ack'; nextOffset: number }
  | {
      type: 'fw-status';
      version: string;
      previousVersion?: string;
      signed: boolean;
      model: string;
      hardware: string;
      staging: FirmwareStaging;
      lastResult: FirmwareLastResult;
    };

export type PosMessageType = PosMessage['type'];
export type PosMessageOf<T extends PosMessageType> = Extract<PosMessage, { type: T }>;

/**
 * The v1 requests a terminal sends that need a decision from the scenario rules. (Kept to the v1 set:
 * the v1 simulator in test-rigs types its request table by it.)
 */
export type TerminalRequest = PosMessageOf<
  'sale-request' | 'void-request' | 'offline-upload' | 'price-list-request' | 'blacklist-version-query'
>;
/** v2 adds the session handshake and the status query (pos-v2-contract.md). */
export type V2TerminalRequest = PosMessageOf<'session-open' | 'session-confirm' | 'sale-status-query'>;
export type AnyTerminalRequest = TerminalRequest | V2TerminalRequest;

export const MESSAGE_COMMAND: Record<PosMessageType, number> = {
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
  'fw-begin': Command.FW_BEGIN,
  'fw-chunk': Command.FW_CHUNK,
  'fw-status-query': Command.FW_STATUS_QUERY,
  'fw-activate': Command.FW_ACTIVATE,
  'fw-rollback': Command.FW_ROLLBACK,
  'fw-chunk-ack': Command.FW_CHUNK_ACK,
  'fw-status': Command.FW_STATUS,
};

/** Who may send a message: the box (master) or a terminal. ACK/NAK go both ways. */
export function senderOf(type: PosMessageType): 'box' | 'terminal' | 'both' {
  const command = MESSAGE_COMMAND[type];
  if (command === Command.ACK || command === Command.NAK) return 'both';
  return command < Command.STATUS ? 'box' : 'terminal';
}

export function nameOf<T extends Record<string, number>>(table: T, value: number): keyof T | undefined {
  for (const [name, v] of Object.entries(table)) if (v === value) return name as keyof T;
  return undefined;
}

/** Commands a terminal sends on its own initiative (with its own seq); everything else answers a box frame. */
export const REQUEST_COMMANDS: ReadonlySet<number> = new Set([
  Command.SALE_REQUEST,
  Command.VOID_REQUEST,
  Command.OFFLINE_UPLOAD,
  Command.PRICE_LIST_REQUEST,
  Command.BLACKLIST_VERSION_QUERY,
  Command.SESSION_OPEN,
  Command.SESSION_CONFIRM,
  Command.SALE_STATUS_QUERY,
]);

/** v2: terminal → box frames that carry MAC_COUNTER and MAC under the session key K_tb. */
export const MACED_TO_BOX: ReadonlySet<number> = new Set([
  Command.SALE_REQUEST,
  Command.VOID_REQUEST,
  Command.OFFLINE_UPLOAD,
  Command.SALE_STATUS_QUERY,
  Command.FW_CHUNK_ACK,
  Command.FW_STATUS,
]);

/** Firmware frames the box sends (§13): one per turn, MAC'd, answered by FW_STATUS, FW_CHUNK_ACK, ACK or NAK. */
export const FIRMWARE_BOX_COMMANDS: ReadonlySet<number> = new Set([
  Command.FW_BEGIN,
  Command.FW_CHUNK,
  Command.FW_STATUS_QUERY,
  Command.FW_ACTIVATE,
  Command.FW_ROLLBACK,
]);

/** v2: box → terminal frames that carry MAC_COUNTER and MAC under the session key K_bt. */
export const MACED_TO_TERMINAL: ReadonlySet<number> = new Set([
  Command.SALE_RESULT,
  Command.VOID_RESULT,
  Command.UPLOAD_RESULT,
  Command.SALE_STATUS,
  Command.TIME_SYNC,
  ...FIRMWARE_BOX_COMMANDS,
]);

export function isTerminalRequest(msg: PosMessage): msg is AnyTerminalRequest {
  return REQUEST_COMMANDS.has(MESSAGE_COMMAND[msg.type]);
}
