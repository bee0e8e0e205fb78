import type { JsonValue } from '@sceneway/cloud-sync/chain/record-chain';
import type { LedgerRecord, RecordKind } from './ledger-api.ts';
import type { records } from './ledger-schema.ts';

/** A `records` row as drizzle returns it. */
export type RecordRow = typeof records.$inferSelect;

/**
 * The same shape for raw streaming selects (`.iterate()`, which drizzle's query builder lacks):
 * columns aliased to drizzle's property names so one converter serves both paths.
 */
export const RECORD_COLUMNS_SQL =
  'seq, box_id AS boxId, kind, terminal_id AS terminalId, amount_fen AS amountFen, payload, ' +
  'pii_digest AS piiDigest, pii_iv AS piiIv, pii_sealed AS piiSealed, recorded_at AS recordedAt, ' +
  'clock_offset_ms AS clockOffsetMs, prev_hash AS prevHash, hash, idempotency_key AS idempotencyKey';

export function recordFromRow(row: RecordRow): LedgerRecord {
  return {
    boxId: row.boxId,
    seq: row.seq,
    kind: row.kind as RecordKind,
    terminalId: row.terminalId,
    amountFen: row.amountFen,
    payload: JSON.parse(row.payload) as { [key: string]: JsonValue },
    piiDigest: row.piiDigest,
    recordedAt: row.recordedAt,
    clockOffsetMs: row.clockOffsetMs,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}
