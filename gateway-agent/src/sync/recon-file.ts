import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dailyTotals, RECON_FORMAT, type ReconReport } from '@sceneway/cloud-sync';
import type Database from 'better-sqlite3';
import type { SqliteLedger } from '../ledger/ledger.ts';
import type { Logger } from '../logger.ts';
import { scheduleJob } from '../scheduler.ts';

/**
 * The box side of daily reconciliation (docs/reconciliation.md): the day's totals per (kind, terminal)
 * from the box's own ledger, with the very `dailyTotals` the bank uses, written as
 * `<boxId>-<date>.json` for the bank's `sceneway-bank reconcile` / `--recon-dir` job.
 */
/** What a report needs of a ledger: its file and box id (a running ledger, or a file opened read-only). */
export interface LedgerSource {
  db: Database.Database;
  boxId: string;
}

export function boxDailyReport(ledger: LedgerSource, date: string): ReconReport {
  // recorded_at is ISO-8601 UTC, so the day's records are one index-free range scan on a text prefix.
  const rows = ledger.db
    .prepare(
      `SELECT kind, terminal_id AS terminalId, amount_fen AS amountFen, recorded_at AS recordedAt
         FROM records WHERE recorded_at >= ? AND recorded_at < ?`,
    )
    .iterate(`${date}T`, `${date}U`) as IterableIterator<{
    kind: string;
    terminalId: string | null;
    amountFen: number | null;
    recordedAt: string;
  }>;
  return { format: RECON_FORMAT, boxId: ledger.boxId, date, lines: dailyTotals(rows, date) };
}

/** Writes the report atomically (temp file + rename): the bank's job never reads half a file. */
export function writeBoxDailyReport(ledger: LedgerSource, date: string, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${ledger.boxId}-${date}.json`);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(boxDailyReport(ledger, date), null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
  return path;
}

export function previousUtcDate(nowMs: number): string {
  return new Date(nowMs - 86_400_000).toISOString().slice(0, 10);
}

/** node-cron job (UTC): after the day closes, the previous UTC day's report. */
export function scheduleBoxReconciliation(options: {
  ledger: SqliteLedger;
  dir: string;
  cron: string;
  now: () => number;
  logger: Logger;
  /** Sends the written report to the bank (sync/recon-upload.ts); the file stays either way. */
  upload?: (report: Buffer, path: string) => Promise<unknown>;
}): { stop(): void } {
  return scheduleJob({
    name: 'daily reconciliation report',
    cron: options.cron,
    timezone: 'UTC',
    logger: options.logger,
    run: () => {
      const date = previousUtcDate(options.now());
      const path = writeBoxDailyReport(options.ledger, date, options.dir);
      options.logger.info({ date, path }, 'daily reconciliation report written');
      return options.upload?.(readFileSync(path), path);
    },
  });
}
