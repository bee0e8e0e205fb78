import { buildBatch } from '@sceneway/cloud-sync';
import type { PendingBatch, UnsyncedReader } from '../ledger/outbox.ts';

/** What to build: the next batch after the outbox cursor, as the uploader decided it is due. */
export interface BatchBuildRequest {
  boxId: string;
  batchSeq: number;
  afterSeq: number;
  prevChainHead: string;
  maxRecords: number;
  maxBytes: number;
  /** ISO-8601 UTC from the box clock. */
  createdAt: string;
}

export interface BatchBuildKeys {
  boxPrivateKeyHex: string;
  bankPublicKeyHex: string;
  userId?: string | undefined;
}

/**
 * Reads the records after the cursor and builds one signed batch of at most maxRecords records and
 * (while more than one record) maxBytes bytes. Returns null when there is nothing to send. The caller
 * stores the batch before sending it (a resend must be the same bytes).
 */
export function buildNextBatch(
  readUnsynced: UnsyncedReader,
  request: BatchBuildRequest,
  keys: BatchBuildKeys,
): PendingBatch | null {
  let rows = readUnsynced(request.afterSeq, request.maxRecords);
  if (rows.length === 0) return null;
  const sm2 = keys.userId ? { userId: keys.userId } : {};
  for (;;) {
    const personalData = new Map<number, Buffer>();
    for (const row of rows) if (row.personalData) personalData.set(row.record.seq, row.personalData);
    const built = buildBatch(
      {
        boxId: request.boxId,
        batchSeq: request.batchSeq,
        prevChainHead: request.prevChainHead,
        records: rows.map((r) => r.record),
        personalData,
        createdAt: request.createdAt,
      },
      { boxPrivateKeyHex: keys.boxPrivateKeyHex, bankPublicKeyHex: keys.bankPublicKeyHex, ...sm2 },
      // The ledger already validated these records (payload types at append, chain at boot).
      { checkBeforeSigning: false },
    );
    if (built.body.length > request.maxBytes && rows.length > 1) {
      rows = rows.slice(0, Math.ceil(rows.length / 2));
      continue;
    }
    return {
      batchSeq: built.header.batchSeq,
      firstSeq: built.header.firstSeq,
      lastSeq: built.header.lastSeq,
      recordCount: built.header.recordCount,
      prevChainHead: built.header.prevChainHead,
      chainHead: built.header.newChainHead,
      digest: built.digest,
      body: built.body,
      createdAt: built.header.createdAt,
    };
  }
}
