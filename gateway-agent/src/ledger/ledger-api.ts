import type { ChainRecord, JsonValue } from '@sceneway/cloud-sync';

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
  /** A licence plate (parking): it names a car owner. */
  plateNumber?: string;
  /** SM3 digest of the plate camera's snapshot, which is stored sealed by that digest. */
  plateImageDigest?: string;
}

export interface AppendInput {
  kind: RecordKind;
  terminalId: string | null;
  /** Integer fen; must be a safe integer. null for records without money. */
  amountFen: number | null;
  payload: { [key: string]: JsonValue };
  pii?: PersonalData;
  /**
   * Stable key of the business event (e.g. `sale:<terminal>:<receiptNo>`). Appending a key that is
   * already in the ledger appends nothing and returns the stored record with `duplicate: true`: a
   * retransmitted or re-uploaded sale is never charged twice, also across restarts.
   */
  idempotencyKey?: string;
  /**
   * Runs inside the SQLite transaction that commits this record (in its own savepoint), so scenario
   * state such as a used QR token or a card's day total commits atomically with the sale. Throwing
   * rejects this append only; other records of the same group commit still commit.
   */
  withinCommit?: (db: import('better-sqlite3').Database) => void;
}

export interface AppendResult {
  record: LedgerRecord;
  /** True when the idempotency key was already present: nothing new was written. */
  duplicate: boolean;
}

/** The ledger as the rest of the agent sees it (gateway-agent/src/ledger/ledger.ts implements it). */
export interface Ledger {
  /** Resolves only after the transaction holding the record has committed (fsync, WAL FULL). */
  append(input: AppendInput): Promise<AppendResult>;
  stats(): LedgerStats;
  /**
   * The stored record of a business event. It may be committed but not yet on disk: await `durable()`
   * before answering a terminal from it (DESIGN invariant 1).
   */
  findByIdempotencyKey(key: string): LedgerRecord | null;
  /** Resolves once every commit made so far is on disk; rejects for good after a failed fsync. */
  durable(): Promise<void>;
  /** The open better-sqlite3 handle, for scenario tables that live in the same file. */
  readonly db: import('better-sqlite3').Database;
  close(): Promise<void>;
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
  /**
   * The file ends below a record it is known to have held: the synced watermark (the bank acknowledged
   * it) or the last boot's verified checkpoint. Deleted records leave the rest of the chain valid, so
   * only these watermarks can tell (docs/decisions.md D17).
   */
  tailMissing: null | { headSeq: number; expectedSeq: number; reason: string };
}
