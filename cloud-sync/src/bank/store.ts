/**
 * The bank ingest store: one interface, two implementations (SQLite for one bank process and the
 * demo, PostgreSQL for stateless ingest replicas), one contract suite for both
 * (bank-store-contract.ts) and one table definition (bank-schema.ts). Exactly-once (DESIGN
 * invariant 2) lives in `commitBatch`: the facts are read, decided by decideBatchAdmission
 * (batch-admission.ts, the same pure function for both) and the head moved in ONE transaction that
 * holds the box row locked, so two replicas racing on the same batch cannot both store it.
 */
export interface EnrolledBox {
  boxId: string;
  siteId: string;
  publicKeyHex: string;
  enrolledAt: string;
  headSeq: number;
  headHash: string;
}

/** How a record's personal data rests at the bank: the batch's SM4 seal and the chained digest. */
export interface PiiSealAtBank {
  iv: string;
  ciphertext: string;
  piiDigest: string;
}

export interface StoredRecord {
  seq: number;
  kind: string;
  terminalId: string | null;
  amountFen: number | null;
  recordedAt: string;
  hash: string;
  /** The record's non-personal payload, as received (stored as JSON). */
  payload: { [key: string]: unknown };
  /**
   * The SM4 seal as received with its piiDigest, or null (004 §5.1.4 a: personal data stays encrypted
   * at rest). Its key is the batch's keyEnvelope.
   */
  piiSeal: PiiSealAtBank | null;
}

export interface BatchToCommit {
  boxId: string;
  batchSeq: number;
  digest: string;
  firstSeq: number;
  lastSeq: number;
  prevChainHead: string;
  newChainHead: string;
  receivedAt: string;
  /** The batch's SM2-sealed SM4 key (hex), stored once per batch: it opens every record's seal. */
  keyEnvelope: string;
  records: StoredRecord[];
}

export type CommitOutcome =
  | { kind: 'stored' }
  | { kind: 'duplicate' }
  | { kind: 'conflict'; storedDigest: string }
  | { kind: 'chain-broken'; headSeq: number; headHash: string }
  | { kind: 'sequence-gap'; headSeq: number }
  | { kind: 'not-enrolled' };

export interface BankAlert {
  at: string;
  kind: string;
  boxId: string;
  detail: string;
}

export interface BoxStatus {
  boxId: string;
  siteId: string;
  headSeq: number;
  records: number;
  lastBatch: { batchSeq: number; lastSeq: number; receivedAt: string } | null;
}

export interface DayRecord {
  kind: string;
  terminalId: string | null;
  amountFen: number | null;
  recordedAt: string;
}

export interface BankStore {
  readonly dialect: 'sqlite' | 'postgres';
  init(): Promise<void>;
  enrolBox(box: { boxId: string; siteId: string; publicKeyHex: string; enrolledAt: string }): Promise<void>;
  getBox(boxId: string): Promise<EnrolledBox | null>;
  /**
   * 004 §5.3.1 h): records a request nonce; false when this box already used it within the
   * window. Entries older than the window are pruned (a stale timestamp is refused before this).
   */
  rememberNonce(boxId: string, nonce: string, seenAtMs: number, windowMs: number): Promise<boolean>;
  /** Nonces held (every box): bounded by the authenticated request rate times twice the window. */
  nonceCount(): Promise<number>;
  /**
   * Dedupe, chain continuity and the store, in one transaction. A batch is stored only once `verified`
   * resolved (the ingest checks run meanwhile); if it rejects, the transaction rolls back and this
   * rejects with its reason. Outcomes other than 'stored' are returned without waiting for it.
   */
  commitBatch(batch: BatchToCommit, verified?: Promise<void>): Promise<CommitOutcome>;
  /**
   * Retention of personal data (DESIGN invariant 5): for every batch received before `receivedBefore`
   * (ISO-8601), deletes its key envelope and its records' SM4 seals; the money facts (kind, terminal,
   * amount, time, hash chain) stay. Idempotent; returns what it cleared this time.
   */
  purgePersonalData(receivedBefore: string): Promise<{ batches: number; records: number }>;
  addAlert(alert: BankAlert): Promise<void>;
  alerts(limit?: number): Promise<BankAlert[]>;
  status(): Promise<BoxStatus[]>;
  recordCount(boxId?: string): Promise<number>;
  /** Records whose recordedAt falls on the UTC day `date` (YYYY-MM-DD). */
  recordsOfDay(boxId: string, date: string): Promise<DayRecord[]>;
  close(): Promise<void>;
}
