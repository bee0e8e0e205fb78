import type { Logger } from '../logger.ts';
import { scheduleJob } from '../scheduler.ts';
import type { SqliteLedger } from './ledger.ts';
import { readMeta, writeMeta } from './verify-ledger.ts';

export interface PruneResult {
  pruned: number;
  prunedThroughSeq: number | null;
}

/**
 * Deletes the oldest records that the bank has acknowledged (seq ≤ synced watermark, and so not in
 * the outbox) and that were recorded before `cutoff`. Only a prefix of the chain is removed: pruning
 * stops at the first record that is too young or unacknowledged, so a clock that jumped never lets a
 * later record go early. The last pruned (seq, hash) becomes the anchor that chain verification
 * starts from. Personal data goes with its record (DESIGN invariant 5: deleted after retention).
 */
export function pruneAcknowledged(ledger: SqliteLedger, cutoff: Date): PruneResult {
  const { db } = ledger;
  let result: PruneResult = { pruned: 0, prunedThroughSeq: null };
  db.transaction(() => {
    const synced = Number(readMeta(db, 'synced_seq') ?? 0);
    const firstKept = db
      .prepare(
        `SELECT min(seq) AS seq FROM records
          WHERE recorded_at >= ? OR seq > ? OR seq IN (SELECT seq FROM outbox)`,
      )
      .get(cutoff.toISOString(), synced) as { seq: number | null };
    const throughRow = db
      .prepare('SELECT seq, hash FROM records WHERE seq < ? ORDER BY seq DESC LIMIT 1')
      .get(firstKept.seq ?? Number.MAX_SAFE_INTEGER) as { seq: number; hash: string } | undefined;
    if (!throughRow || throughRow.seq > synced) return;
    const deleted = db.prepare('DELETE FROM records WHERE seq <= ?').run(throughRow.seq).changes;
    writeMeta(db, 'pruned_through_seq', String(throughRow.seq));
    writeMeta(db, 'pruned_through_hash', throughRow.hash);
    result = { pruned: deleted, prunedThroughSeq: throughRow.seq };
  })();
  return result;
}

/** The retention job: node-cron at `retention.cron`, pruning records older than `retention.days`. */
export function scheduleRetention(options: {
  ledger: SqliteLedger;
  cron: string;
  days: number;
  timezone: string;
  now: () => number;
  logger: Logger;
}): { stop(): void } {
  return scheduleJob({
    name: 'retention prune',
    cron: options.cron,
    timezone: options.timezone,
    logger: options.logger,
    run: () => {
      const cutoff = new Date(options.now() - options.days * 86_400_000);
      const r = pruneAcknowledged(options.ledger, cutoff);
      options.logger.info({ pruned: r.pruned, throughSeq: r.prunedThroughSeq }, 'retention prune done');
    },
  });
}
