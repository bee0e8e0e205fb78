import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import cron from 'node-cron';
import { formatDifference, parseReconReport, type ReconDifference, reconcileDay } from './reconcile.ts';
import type { BankStore } from './store.ts';

export interface ReconRun {
  file: string;
  boxId: string;
  differences: ReconDifference[];
}

/**
 * Reconciles every `sceneway.recon.v1` file for `date` found in `dir` (boxes upload them as
 * `<boxId>-<date>.json`). Each box with differences gets a BANK_RECON_MISMATCH alert.
 */
export async function reconcileDirectory(
  store: BankStore,
  dir: string,
  date: string,
  now: Date,
): Promise<ReconRun[]> {
  const runs: ReconRun[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith(`-${date}.json`))
    .sort()) {
    const report = parseReconReport(readFileSync(join(dir, name), 'utf8'));
    if (report.date !== date) continue;
    const differences = await reconcileDay(store, report);
    if (differences.length > 0) {
      await store.addAlert({
        at: now.toISOString(),
        kind: 'BANK_RECON_MISMATCH',
        boxId: report.boxId,
        detail: `${date}: ${differences.map(formatDifference).join('; ')}`,
      });
    }
    runs.push({ file: name, boxId: report.boxId, differences });
  }
  return runs;
}

/** The day before `now` in UTC, YYYY-MM-DD: the nightly job reconciles the day that just closed. */
export function previousUtcDay(now: Date): string {
  return new Date(now.getTime() - 86_400_000).toISOString().slice(0, 10);
}

/** Schedules the nightly reconciliation (default 02:30 UTC). Returns a stop function. */
export function scheduleReconciliation(opts: {
  store: BankStore;
  dir: string;
  schedule?: string;
  onRun?: (runs: ReconRun[]) => void;
  onError?: (e: unknown) => void;
}): () => void {
  const task = cron.schedule(
    opts.schedule ?? '30 2 * * *',
    () => {
      const now = new Date();
      reconcileDirectory(opts.store, opts.dir, previousUtcDay(now), now).then(opts.onRun, opts.onError);
    },
    { timezone: 'UTC' },
  );
  return () => {
    task.stop();
  };
}
