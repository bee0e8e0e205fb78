import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { previousUtcDay, reconcileDirectory } from './recon-job.ts';
import { compareTotals, dailyTotals, RECON_FORMAT } from './reconcile.ts';
import { SqliteBankStore } from './sqlite-store.ts';

const rec = (kind: string, terminalId: string | null, amountFen: number | null, recordedAt: string) => ({
  kind,
  terminalId,
  amountFen,
  recordedAt,
});

describe('dailyTotals', () => {
  it('groups by kind and terminal for the UTC day only, counting money-less records with sum 0', () => {
    const lines = dailyTotals(
      [
        rec('sale', 'pos-01', 1250, '2026-03-02T03:15:00.000Z'),
        rec('sale', 'pos-01', 800, '2026-03-02T23:59:59.999Z'),
        rec('void', 'pos-01', -1250, '2026-03-02T04:00:00.000Z'),
        rec('attendance', 'face-01', null, '2026-03-02T05:00:00.000Z'),
        rec('sale', 'pos-01', 999, '2026-03-03T00:00:00.000Z'),
      ],
      '2026-03-02',
    );
    expect(lines).toEqual([
      { kind: 'attendance', terminalId: 'face-01', count: 1, sumFen: 0 },
      { kind: 'sale', terminalId: 'pos-01', count: 2, sumFen: 2050 },
      { kind: 'void', terminalId: 'pos-01', count: 1, sumFen: -1250 },
    ]);
  });

  it('compareTotals lists lines missing on either side and lines that differ', () => {
    const box = [
      { kind: 'sale', terminalId: 'a', count: 2, sumFen: 100 },
      { kind: 'sale', terminalId: 'b', count: 1, sumFen: 5 },
    ];
    const bank = [
      { kind: 'sale', terminalId: 'a', count: 2, sumFen: 100 },
      { kind: 'void', terminalId: 'a', count: 1, sumFen: -5 },
    ];
    expect(compareTotals(box, bank)).toEqual([
      { kind: 'sale', terminalId: 'b', box: { count: 1, sumFen: 5 }, bank: null },
      { kind: 'void', terminalId: 'a', box: null, bank: { count: 1, sumFen: -5 } },
    ]);
  });
});

describe('nightly reconciliation job', () => {
  it('reconciles every box file of the day and raises an alert on differences', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sceneway-recon-'));
    const store = new SqliteBankStore(join(dir, 'bank.db'));
    try {
      await store.init();
      const date = previousUtcDay(new Date('2026-03-03T02:30:00.000Z'));
      expect(date).toBe('2026-03-02');
      writeFileSync(
        join(dir, `box-x-${date}.json`),
        JSON.stringify({
          format: RECON_FORMAT,
          boxId: 'box-x',
          date,
          lines: [{ kind: 'sale', terminalId: 'p', count: 1, sumFen: 10 }],
        }),
      );
      const runs = await reconcileDirectory(store, dir, date, new Date());
      expect(runs).toHaveLength(1);
      expect(runs[0]?.differences).toHaveLength(1);
      expect((await store.alerts())[0]).toMatchObject({ kind: 'BANK_RECON_MISMATCH', boxId: 'box-x' });
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
