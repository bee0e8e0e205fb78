import { z } from 'zod';
import { SyncError } from '../sync-error.ts';
import type { BankStore } from './store.ts';

/**
 * Daily reconciliation (docs/reconciliation.md). The BOX produces a `sceneway.recon.v1` file from its
 * ledger with `dailyTotals`; the bank computes the same totals from what it stored and lists every
 * line that differs. Pure functions here so the box side reuses exactly the same grouping.
 */
export const RECON_FORMAT = 'sceneway.recon.v1';

export const reconLineSchema = z.strictObject({
  kind: z.string().min(1),
  terminalId: z.string().nullable(),
  count: z.number().int().nonnegative(),
  /** Integer fen; records without money count but add 0. */
  sumFen: z.number().int().refine(Number.isSafeInteger),
});

export const reconReportSchema = z.strictObject({
  format: z.literal(RECON_FORMAT),
  boxId: z.string().min(1),
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  lines: z.array(reconLineSchema),
});

export type ReconLine = z.infer<typeof reconLineSchema>;
export type ReconReport = z.infer<typeof reconReportSchema>;

export interface ReconDifference {
  kind: string;
  terminalId: string | null;
  box: { count: number; sumFen: number } | null;
  bank: { count: number; sumFen: number } | null;
}

const keyOf = (l: { kind: string; terminalId: string | null }): string =>
  `${l.kind}\u0000${l.terminalId ?? ''}`;

/** Count and sum (fen) per (kind, terminal) of the records whose recordedAt falls on UTC day `date`. */
export function dailyTotals(
  records: Iterable<{
    kind: string;
    terminalId: string | null;
    amountFen: number | null;
    recordedAt: string;
  }>,
  date: string,
): ReconLine[] {
  const lines = new Map<string, ReconLine>();
  for (const r of records) {
    if (r.recordedAt.slice(0, 10) !== date) continue;
    const k = keyOf(r);
    const line = lines.get(k) ?? { kind: r.kind, terminalId: r.terminalId, count: 0, sumFen: 0 };
    line.count += 1;
    line.sumFen += r.amountFen ?? 0;
    lines.set(k, line);
  }
  return [...lines.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
}

export function compareTotals(box: ReconLine[], bank: ReconLine[]): ReconDifference[] {
  const boxBy = new Map(box.map((l) => [keyOf(l), l]));
  const bankBy = new Map(bank.map((l) => [keyOf(l), l]));
  const keys = [...new Set([...boxBy.keys(), ...bankBy.keys()])].sort();
  const diffs: ReconDifference[] = [];
  for (const k of keys) {
    const a = boxBy.get(k);
    const b = bankBy.get(k);
    if (a && b && a.count === b.count && a.sumFen === b.sumFen) continue;
    const line = (a ?? b) as ReconLine;
    diffs.push({
      kind: line.kind,
      terminalId: line.terminalId,
      box: a ? { count: a.count, sumFen: a.sumFen } : null,
      bank: b ? { count: b.count, sumFen: b.sumFen } : null,
    });
  }
  return diffs;
}

export function parseReconReport(text: string): ReconReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SyncError('BANK_RECON_MALFORMED', 'reconciliation file is not JSON', undefined, { cause: e });
  }
  const res = reconReportSchema.safeParse(value);
  if (!res.success) {
    const issue = res.error.issues[0];
    throw new SyncError(
      'BANK_RECON_MALFORMED',
      `reconciliation file: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return res.data;
}

/** Compares a box's report for one day with the bank's stored records of that box and day. */
export async function reconcileDay(store: BankStore, report: ReconReport): Promise<ReconDifference[]> {
  const stored = await store.recordsOfDay(report.boxId, report.date);
  return compareTotals(report.lines, dailyTotals(stored, report.date));
}

export function formatDifference(d: ReconDifference): string {
  const side = (s: { count: number; sumFen: number } | null) =>
    s ? `${s.count} records, ${s.sumFen} fen` : 'absent';
  return `${d.kind} @ ${d.terminalId ?? '-'}: box ${side(d.box)} / bank ${side(d.bank)}`;
}
