import { findChainBreak } from '../chain/record-chain.ts';
import { SyncError } from '../sync-error.ts';
import type { BatchBody } from './batch-schema.ts';

/**
 * totalsFen[kind] = Σ amountFen over the batch's records of that kind whose amountFen is not null.
 * Kinds whose records carry no money do not appear. A daily reconciliation sums these per box.
 */
export function totalsByKind(
  records: ReadonlyArray<{ kind: string; amountFen: number | null }>,
): Record<string, number> {
  const totals: Record<string, number> = {};
  for (const r of records) {
    if (r.amountFen === null) continue;
    const sum = (totals[r.kind] ?? 0) + r.amountFen;
    if (!Number.isSafeInteger(sum))
      throw new SyncError('BATCH_TOTALS', `totalsFen.${r.kind} overflows a safe integer`);
    totals[r.kind] = sum;
  }
  return totals;
}

/**
 * Records checked between two yields of the sliced checks (the chain walk here, the opening of personal
 * data in batch-pii.ts): about a millisecond of work.
 */
export const CHECK_SLICE_RECORDS = 250;

/**
 * Everything a batch says about itself that can be checked without the box's previous state:
 * counts, contiguous sequence numbers, every record's hash and link (DESIGN invariant 3), the
 * chain heads and the money totals. Whether prevChainHead continues the box's chain *at the bank*
 * is the ingest service's check (it knows the last stored head).
 */
export function checkBatchInternals(parsed: { body: BatchBody }): void {
  for (const _ of checkBatchInternalsInSlices(parsed));
}

/**
 * The same checks as a generator that yields after every CHECK_SLICE_RECORDS records' hashes: the
 * bank runs them between other work (its database insert) without holding its event loop for the
 * whole batch.
 */
export function* checkBatchInternalsInSlices(parsed: { body: BatchBody }): Generator<void, void, void> {
  const { header, records } = parsed.body;
  const first = records[0];
  const last = records[records.length - 1];
  if (!first || !last || header.recordCount !== records.length) {
    throw new SyncError(
      'BATCH_COUNT',
      `header.recordCount is ${header.recordCount} but the batch holds ${records.length} records`,
    );
  }
  if (
    first.seq !== header.firstSeq ||
    last.seq !== header.lastSeq ||
    header.lastSeq - header.firstSeq + 1 !== records.length
  ) {
    throw new SyncError(
      'BATCH_SEQ_GAP',
      `header says seq ${header.firstSeq}..${header.lastSeq}, records run ${first.seq}..${last.seq} (${records.length} records)`,
    );
  }
  const foreign = records.find((r) => r.boxId !== header.boxId);
  if (foreign)
    throw new SyncError(
      'BATCH_BOX',
      `record ${foreign.seq} belongs to box ${foreign.boxId}, not ${header.boxId}`,
    );
  if (first.prevHash !== header.prevChainHead) {
    throw new SyncError('BATCH_CHAIN', `record ${first.seq}.prevHash does not equal header.prevChainHead`);
  }
  let anchor = { seq: header.firstSeq - 1, hash: header.prevChainHead };
  for (let at = 0; at < records.length; at += CHECK_SLICE_RECORDS) {
    const slice = records.slice(at, at + CHECK_SLICE_RECORDS);
    const chainBreak = findChainBreak(anchor, slice);
    if (chainBreak) {
      const code = chainBreak.reason === 'sequence-gap' ? 'BATCH_SEQ_GAP' : 'BATCH_CHAIN';
      throw new SyncError(
        code,
        `record ${chainBreak.seq}: ${chainBreak.reason} (expected ${chainBreak.expected}, got ${chainBreak.actual})`,
      );
    }
    const end = slice[slice.length - 1] as BatchBody['records'][number];
    anchor = { seq: end.seq, hash: end.hash };
    yield;
  }
  if (last.hash !== header.newChainHead) {
    throw new SyncError('BATCH_CHAIN', `header.newChainHead does not equal the hash of record ${last.seq}`);
  }
  const totals = totalsByKind(records);
  const kinds = new Set([...Object.keys(totals), ...Object.keys(header.totalsFen)]);
  for (const kind of kinds) {
    if (totals[kind] !== header.totalsFen[kind]) {
      throw new SyncError(
        'BATCH_TOTALS',
        `header.totalsFen.${kind} is ${header.totalsFen[kind] ?? 'absent'} but the records sum to ${totals[kind] ?? 'nothing'}`,
      );
    }
  }
}
