/**
 * The code tables of docs/protocols/canteen-pos.md (§6.1 tags, §6.3 decline reasons, §6.4 NAK reasons,
 * §7 commands), typed in from the document for the terminal side. The simulator's doc test compares
 * them with the document's tables, so a table changed on one side only fails a test.
 */
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
} as const;
export type DeclineReasonName = keyof typeof DeclineReason;

export const NakReason = {
  UNKNOWN_COMMAND: 0x01,
  TLV_MALFORMED: 0x02,
  FIELD_MISSING: 0x03,
  FIELD_INVALID: 0x04,
  BUSY: 0x05,
  SESSION_REQUIRED: 0x06,
  MAC_INVALID: 0x07,
  REPLAYED: 0x08,
  AUTH_FAILED: 0x09,
  FW_NOT_STAGED: 0x0a,
  FW_SIGNATURE_INVALID: 0x0b,
  FW_DIGEST_MISMATCH: 0x0c,
  FW_NOT_FOR_THIS_TILL: 0x0d,
  FW_NO_PREVIOUS: 0x0e,
  FW_TOO_LARGE: 0x0f,
} as const;
export type NakReasonName = keyof typeof NakReason;

export function nameOf<T extends Record<string, number>>(table: T, value: number): keyof T | undefined {
  for (const [name, v] of Object.entries(table)) if (v === value) return name as keyof T;
  return undefined;
}

export const MAX_BODY_LENGTH = 4096;
export const MAX_RECORDS_PER_UPLOAD = 32;
export const PROTOCOL_VERSION_2 = 2;
export const NONCE_BYTES = 16;
export const PROOF_BYTES = 32;
export const MAC_BYTES = 16;
