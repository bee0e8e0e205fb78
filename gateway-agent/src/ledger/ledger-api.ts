import type { ChainRecord, JsonValue } from '@sceneway/cloud-sync/chain/record-chain';

/**
 * The record kinds the ledger knows. Each scenario adds its kinds here (one list, typed), so the
 * ledger, the batch format and the bank agree on them without string guessing.
 */
export const RECORD_KINDS = [
  'sale', // canteen/parking charge: amountFen > 0
  'void', // reversal of an earlier sale: payload.voidsSeq
  'offline-sale', // a sale the terminal approved on its own while cut off, uploaded later
  'attendance', // campus face/attendance reader pass (no money)
  'plate-sighting', // parking camera entry/exit (no money until the fee)
  'alert', // operational alert worth keeping in the tamper-evident record
] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

/** Personal data of a record: encrypted at rest (SM4) and in batches, digested into the chain. */
export interface PersonalData {
  cardNumber?: string;
  idNumber?: string;
  phone?: string;
  faceImageDigest?: string;
}

export interface AppendInput {
  kind: RecordKind;
  terminalId: string | null;
  /** Integer fen; must be a safe integer. null for records without money. */
  amountFen: number | null;
  payload: { [key: string]: JsonValue };
  pii?: PersonalData;
}

/** A committed record as stored: the chained fields plus its own hash. */
export interface LedgerRecord extends ChainRecord {
  hash: string;
  kind: RecordKind;
}

export interface LedgerStats {
  headSeq: number;
  headHash: string;
  /** Records not yet acknowledged by the bank (outbox depth). */
  unsyncedCount: number;
  /** recordedAt (ms epoch) of the oldest unsynced record, or null when the outbox is empty. */
  oldestUnsyncedAt: number | null;
  lastSyncedSeq: number;
}

export interface LedgerVerifyResult {
  ok: boolean;
  records: number;
  head: { seq: number; hash: string };
  integrity: 'ok' | string;
  chainBreak: null | { seq: number; reason: string };
}
