import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dailyTotals, parseReconReport, reconcileDay } from '@sceneway/cloud-sync';
import { afterEach, describe, expect, it } from 'vitest';
import { saleInput } from '../ledger/test-support.ts';
import { writeBoxDailyReport } from './recon-file.ts';
import { createSyncRig, type SyncRig, waitFor } from './test-support.ts';

let rig: SyncRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('box daily reconciliation report', () => {
  it('matches what the bank stored for the day, line for line, and shows a missing record', async () => {
    rig = await createSyncRig();
    const bank = await rig.startBank();
    await Promise.all(Array.from({ length: 40 }, (_, i) => rig!.ledger.append(saleInput(i))));
    await rig.ledger.append({ kind: 'void', terminalId: 'pos-1', amountFen: -150, payload: { voidsSeq: 3 } });
    const uploader = rig.uploader();
    uploader.start();
    await waitFor(() => rig!.ledger.stats().unsyncedCount === 0, 'sync');
    await uploader.stop();

    const date = new Date().toISOString().slice(0, 10);
    const path = writeBoxDailyReport(rig.ledger, date, join(rig.dir, 'recon'));
    const report = parseReconReport(readFileSync(path, 'utf8'));
    expect(report.lines.find((l) => l.kind === 'void')).toEqual({
      kind: 'void',
      terminalId: 'pos-1',
      count: 1,
      sumFen: -150,
    });
    expect(report.lines.reduce((n, l) => n + l.count, 0)).toBe(41);
    expect(await reconcileDay(bank.store, report)).toEqual([]);

    // A sale the bank never got (appended after the sync) is a difference on its terminal's line.
    await rig.ledger.append(saleInput(1000));
    const later = parseReconReport(
      readFileSync(writeBoxDailyReport(rig.ledger, date, join(rig.dir, 'recon')), 'utf8'),
    );
    const diffs = await reconcileDay(bank.store, later);
    expect(diffs).toHaveLength(1);
    expect(diffs[0]).toMatchObject({ kind: 'sale', terminalId: 'pos-0' });
    expect(dailyTotals([], date)).toEqual([]);
  });
});
