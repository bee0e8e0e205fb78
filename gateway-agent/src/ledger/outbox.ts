import type Database from 'better-sqlite3';
import { asc, gt, lte, sql } from 'drizzle-orm';
import type { SqliteLedger } from './ledger.ts';
import type { LedgerRecord } from './ledger-api.ts';
import { outbox, pendingBatches } from './ledger-schema.ts';
import { openPiiAtRestMany } from './pii-at-rest.ts';
import { RAW_RECORD_COLUMNS_SQL, type RawRecordRow, recordFromRawRow } from './record-row.ts';
import { prunedAnchor, readMeta, writeMeta } from './verify-ledger.ts';

export interface UnsyncedRecord {
  record: LedgerRecord;
  /** The record's personal data as the plaintext bytes a batch seals (batch-pii personalDataPlaintext). */
  personalData: Buffer | null;
}

export type PendingBatch = typeof pendingBatches.$inferSelect;

/** Where the next batch starts: after the last record already in a batch (pending or acknowledged). */
export interface BatchCursor {
  nextBatchSeq: number;
  afterSeq: number;
  chainHead: string;
}

/**
 * Reads unsynced records in order with their personal data opened to the plaintext a batch seals.
 * Takes a bare connection and the data key, so the batch-building worker (sync/batch-worker.ts) reads
 * through its own connection with the very same code.
 */
export function createUnsyncedReader(db: Database.Database, dataKey: Buffer) {
  // A raw statement, rows as arrays, for the uploader's hot read: drizzle's row mapping of this join
  // was ~15 % of the box's CPU while draining a large backlog (profiled; docs/decisions.md D8), and
  // row objects cost another 40 % of the read (record-row.ts).
  const selectUnsynced = db
    .prepare(
      `SELECT ${RAW_RECORD_COLUMNS_SQL} FROM outbox JOIN records USING (seq) WHERE seq > ? ORDER BY seq LIMIT ?`,
    )
    .raw(true);
  return (afterSeq: number, limit: number): UnsyncedRecord[] => {
    const rows = selectUnsynced.all(afterSeq, limit) as RawRecordRow[];
    const sealed: Array<{ seq: number; iv: Buffer; sealed: Buffer }> = [];
    for (const r of rows) {
      const [seq, , , , , , , , , , , iv, sealedPii] = r;
      if (iv && sealedPii) sealed.push({ seq, iv, sealed: sealedPii });
    }
    const opened = openPiiAtRestMany(dataKey, sealed);
    let next = 0;
    return rows.map((r) => ({
      record: recordFromRawRow(r),
      personalData: r[11] && r[12] ? (opened[next++] ?? null) : null,
    }));
  };
}

export type UnsyncedReader = ReturnType<typeof createUnsyncedReader>;

/**
 * The uploader's view of the ledger: unsynced records in order, batches stored before they are sent
 * (a resend after a lost ack must be the same bytes: batches are re-randomised per build), and the
 * acknowledgement that finally removes records from the outbox. Nothing here deletes a record.
 */
export function createOutbox(ledger: SqliteLedger) {
  const { orm, db } = ledger;
  const readUnsynced = createUnsyncedReader(db, ledger.dataKey);
  const selectDue = db.prepare(
    `SELECT count(*) AS n, min(seq) AS first FROM (SELECT seq FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?)`,
  );
  const selectRecordedAt = db.prepare('SELECT recorded_at AS at FROM records WHERE seq = ?');
  const countPending = db.prepare('SELECT count(*) AS n FROM pending_batches');

  return {
    readUnsynced,

    /** How many unsynced records follow `afterSeq` (at most `limit`) and when the first was written. */
    unsyncedAfter(afterSeq: number, limit: number): { count: number; oldestRecordedAt: string | null } {
      const due = selectDue.get(afterSeq, limit) as { n: number; first: number | null };
      if (due.n === 0 || due.first === null) return { count: 0, oldestRecordedAt: null };
      const first = selectRecordedAt.get(due.first) as { at: string } | undefined;
      return { count: due.n, oldestRecordedAt: first?.at ?? null };
    },

    /**
     * The oldest batch built but not yet acknowledged (after `afterBatchSeq`): it must be sent (again)
     * before anything new.
     */
    oldestPendingBatch(afterBatchSeq = 0): PendingBatch | null {
      return (
        orm
          .select()
          .from(pendingBatches)
          .where(gt(pendingBatches.batchSeq, afterBatchSeq))
          .orderBy(asc(pendingBatches.batchSeq))
          .limit(1)
          .get() ?? null
      );
    },

    pendingCount(): number {
      return (countPending.get() as { n: number }).n;
    },

    cursor(): BatchCursor {
      const lastPending = orm
        .select()
        .from(pendingBatches)
        .orderBy(sql`${pendingBatches.batchSeq} DESC`)
        .limit(1)
        .get();
      if (lastPending) {
        return {
          nextBatchSeq: lastPending.batchSeq + 1,
          afterSeq: lastPending.lastSeq,
          chainHead: lastPending.chainHead,
        };
      }
      const ackedBatch = Number(readMeta(db, 'acked_batch_seq') ?? 0);
      const syncedSeq = readMeta(db, 'synced_seq');
      const syncedHash = readMeta(db, 'synced_hash');
      if (syncedSeq !== undefined && syncedHash !== undefined) {
        return { nextBatchSeq: ackedBatch + 1, afterSeq: Number(syncedSeq), chainHead: syncedHash };
      }
      const anchor = prunedAnchor(db);
      return { nextBatchSeq: ackedBatch + 1, afterSeq: anchor.seq, chainHead: anchor.hash };
    },

    savePendingBatch(batch: PendingBatch): void {
      orm.insert(pendingBatches).values(batch).run();
    },

    /**
     * Called only after the bank's ack has been verified with the pinned bank key: one transaction
     * removes the batch's records from the outbox, drops the stored batch (and any earlier one) and
     * moves the watermark. It never moves the watermark back (an ack recorded late, after a later one).
     */
    markBatchAcknowledged(batch: PendingBatch, ackJson: string): void {
      let removed = 0;
      let stale = false;
      db.transaction(() => {
        orm.delete(pendingBatches).where(lte(pendingBatches.batchSeq, batch.batchSeq)).run();
        stale = Number(readMeta(db, 'synced_seq') ?? -1) >= batch.lastSeq;
        if (stale) return;
        removed = orm.delete(outbox).where(sql`${outbox.seq} <= ${batch.lastSeq}`).run().changes;
        writeMeta(db, 'synced_seq', String(batch.lastSeq));
        writeMeta(db, 'synced_hash', batch.chainHead);
        writeMeta(db, 'acked_batch_seq', String(batch.batchSeq));
        writeMeta(db, 'last_ack', ackJson);
      })();
      if (!stale) ledger.noteSynced(removed, batch.lastSeq);
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
