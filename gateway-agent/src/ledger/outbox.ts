import type { PersonalDataEntry } from '@sceneway/cloud-sync/batch/batch-pii';
import { asc, eq, sql } from 'drizzle-orm';
import type { SqliteLedger } from './ledger.ts';
import type { LedgerRecord } from './ledger-api.ts';
import { outbox, pendingBatches } from './ledger-schema.ts';
import { openPiiAtRest } from './pii-at-rest.ts';
import { RECORD_COLUMNS_SQL, type RecordRow, recordFromRow } from './record-row.ts';
import { prunedAnchor, readMeta, writeMeta } from './verify-ledger.ts';

export interface UnsyncedRecord {
  record: LedgerRecord;
  personalData: PersonalDataEntry | null;
}

export type PendingBatch = typeof pendingBatches.$inferSelect;

/** Where the next batch starts: after the last record already in a batch (pending or acknowledged). */
export interface BatchCursor {
  nextBatchSeq: number;
  afterSeq: number;
  chainHead: string;
}

/**
 * The uploader's view of the ledger: unsynced records in order, batches stored before they are sent
 * (a resend after a lost ack must be the same bytes: batches are re-randomised per build), and the
 * acknowledgement that finally removes records from the outbox. Nothing here deletes a record.
 */
export function createOutbox(ledger: SqliteLedger) {
  const { orm, db } = ledger;
  // A raw statement for the uploader's hot read: drizzle's row mapping of this join was ~15 % of the
  // box's CPU while draining a large backlog (profiled; docs/decisions.md D8).
  const selectUnsynced = db.prepare(
    `SELECT ${RECORD_COLUMNS_SQL} FROM outbox JOIN records USING (seq) WHERE seq > ? ORDER BY seq LIMIT ?`,
  );

  return {
    readUnsynced(afterSeq: number, limit: number): UnsyncedRecord[] {
      return (selectUnsynced.all(afterSeq, limit) as RecordRow[]).map((r) => ({
        record: recordFromRow(r),
        personalData:
          r.piiIv && r.piiSealed ? openPiiAtRest(ledger.dataKey, r.piiIv, r.piiSealed, r.seq) : null,
      }));
    },

    /** The oldest batch built but not yet acknowledged: it must be sent (again) before anything new. */
    oldestPendingBatch(): PendingBatch | null {
      return orm.select().from(pendingBatches).orderBy(asc(pendingBatches.batchSeq)).limit(1).get() ?? null;
    },

    pendingCount(): number {
      return (db.prepare('SELECT count(*) AS n FROM pending_batches').get() as { n: number }).n;
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
     * removes the batch's records from the outbox, drops the stored batch and moves the watermark.
     */
    markBatchAcknowledged(batch: PendingBatch, ackJson: string): void {
      let removed = 0;
      db.transaction(() => {
        removed = orm.delete(outbox).where(sql`${outbox.seq} <= ${batch.lastSeq}`).run().changes;
        orm.delete(pendingBatches).where(eq(pendingBatches.batchSeq, batch.batchSeq)).run();
        writeMeta(db, 'synced_seq', String(batch.lastSeq));
        writeMeta(db, 'synced_hash', batch.chainHead);
        writeMeta(db, 'acked_batch_seq', String(batch.batchSeq));
        writeMeta(db, 'last_ack', ackJson);
      })();
      ledger.noteSynced(removed, batch.lastSeq);
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
