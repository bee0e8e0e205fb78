import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HeaderBag } from '../batch/request-auth.ts';
import { sm3Hex } from '../crypto/sm3.ts';
import { SyncError } from '../sync-error.ts';
import type { IngestContext } from './ingest.ts';
import { parseReconReport } from './reconcile.ts';
import { BankRefusal } from './refusal.ts';
import { authenticateBoxRequest } from './request-gate.ts';

/** A box id that is safe as a file name part: it names `<boxId>-<date>.json` in the recon directory. */
const SAFE_BOX_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * POST /v1/recon: a box uploads its daily `sceneway.recon.v1` report (docs/reconciliation.md), signed
 * like a batch request (headers over SM3 of the body). It is written as `<boxId>-<date>.json` into the
 * directory the nightly job reconciles; a later upload for the same day replaces the earlier one (it
 * counts the records that were still unsynced then). Throws BankRefusal.
 */
export async function ingestReconReport(
  ctx: IngestContext,
  reconDir: string | undefined,
  headers: HeaderBag,
  body: Buffer,
): Promise<{ boxId: string; date: string; file: string }> {
  if (!reconDir)
    throw new BankRefusal(
      404,
      'BANK_RECON_OFF',
      'this bank takes no reconciliation uploads (no --recon-dir)',
    );
  const { boxId } = await authenticateBoxRequest(ctx, headers, sm3Hex(body));
  let report: ReturnType<typeof parseReconReport>;
  try {
    report = parseReconReport(body.toString('utf8'));
  } catch (e) {
    throw new BankRefusal(400, 'BANK_RECON_MALFORMED', e instanceof SyncError ? e.message : String(e));
  }
  if (report.boxId !== boxId)
    throw new BankRefusal(
      400,
      'BANK_BOX_MISMATCH',
      'the report belongs to another box than the request names',
    );
  if (!SAFE_BOX_ID.test(boxId))
    throw new BankRefusal(400, 'BANK_RECON_MALFORMED', 'the box id cannot name a reconciliation file');
  mkdirSync(reconDir, { recursive: true });
  const file = `${boxId}-${report.date}.json`;
  const path = join(reconDir, file);
  // Temp file + rename: the nightly job never reads half a report.
  writeFileSync(`${path}.tmp`, body, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
  ctx.log('info', 'reconciliation report received', { boxId, date: report.date });
  return { boxId, date: report.date, file };
}
