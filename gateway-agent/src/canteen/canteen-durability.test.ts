import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SaleDecision } from '@sceneway/device-drivers';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { manualClock } from '../clock.ts';
import { openLedger, type SqliteLedger } from '../ledger/ledger.ts';
import { TEST_DATA_KEY, tempLedgerPath } from '../ledger/test-support.ts';
import { createWalSync, type WalSync } from '../ledger/wal-sync.ts';
import { deferred } from '../test-support/deferred.ts';
import { createCanteenRules } from './canteen-rules.ts';
import { AUDIENCE, BANK, BOX_ID, cardSale, DIGESTS, LIMITS, NOON, voidOf } from './test-support.ts';

/**
 * DESIGN invariant 1 at the canteen's door, on the production ledger: a stored decision is answered
 * only once it is durable, and after a failed fsync nobody is told "declined" (docs/decisions.md D17).
 */
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const UNANSWERED = 'request left unanswered';

function canteenOn(walSync: WalSync) {
  const path = tempLedgerPath('canteen-durability-');
  cleanups.push(() => rmSync(dirname(path), { recursive: true, force: true }));
  const ledger: SqliteLedger = openLedger({ path, boxId: 'box-1', dataKey: TEST_DATA_KEY, walSync });
  cleanups.push(() => ledger.close());
  const logged: string[] = [];
  const watchers: Array<{ text: string; seen: () => void }> = [];
  const logger = pino(
    { level: 'info' },
    {
      write(line: string) {
        logged.push(line);
        for (const w of watchers) if (line.includes(w.text)) w.seen();
      },
    },
  );
  const rules = createCanteenRules({
    ledger,
    limits: LIMITS,
    bankPublicKeyHex: BANK.publicKeyHex,
    audience: AUDIENCE,
    boxId: BOX_ID,
    holderDigests: DIGESTS,
    clock: manualClock(NOON),
    isBankReachable: () => true,
    freeDiskMb: () => 10_000,
    logger,
  });
  const logLine = (text: string) =>
    new Promise<void>((resolve) => {
      if (logged.some((l) => l.includes(text))) resolve();
      else watchers.push({ text, seen: resolve });
    });
  return { ledger, rules, logLine };
}

/** A held-back or failing WAL sync in front of the real one; resolves `entered[n]` as sync n starts. */
function controlledWalSync(path: () => string, mode: 'hold' | 'fail') {
  const gate = deferred<void>();
  const entered = [deferred<void>(), deferred<void>(), deferred<void>()];
  let calls = 0;
  let real: WalSync | null = null;
  const walSync: WalSync = {
    syncInherited() {},
    async sync() {
      entered[calls++]?.resolve();
      if (mode === 'fail') throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
      await gate.promise;
      real ??= createWalSync(path());
      await real.sync();
    },
    async close() {
      await real?.close();
    },
  };
  return { walSync, gate, entered, calls: () => calls };
}

function settledState(p: Promise<SaleDecision>) {
  const state: { settled: boolean; value?: SaleDecision; error?: unknown } = { settled: false };
  p.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

/** Which comes first: the terminal's answer, or the log line saying it is left unanswered. */
function answeredOrLeft(decision: Promise<SaleDecision>, left: Promise<void>) {
  return Promise.race([
    decision.then(
      (d) => `answered ${d.outcome}`,
      (e: unknown) => `rejected ${String(e)}`,
    ),
    left.then(() => 'left unanswered'),
  ]);
}

const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('canteen on the real ledger: stored decisions and durability', () => {
  it('a re-sent sale whose first commit is still being fsynced is answered only after that fsync', async () => {
    let ledgerPath = '';
    const sync = controlledWalSync(() => ledgerPath, 'hold');
    const { ledger, rules } = canteenOn(sync.walSync);
    cleanups.push(() => sync.gate.resolve()); // runs first: close() waits for the held sync
    ledgerPath = ledger.path;
    const sale = cardSale('04a1b2c3', 800);
    // The first delivery's record: committed, its fsync held back (as after a crash between the two).
    const first = ledger.append({
      kind: 'sale',
      terminalId: 'pos-1',
      amountFen: sale.amountFen,
      payload: { receiptNo: sale.receiptNo },
      idempotencyKey: `sale:pos-1:${sale.receiptNo}`,
    });
    await sync.entered[0]?.promise;
    const resent = rules.decideSale('pos-1', sale);
    const state = settledState(resent);
    const firstToHappen = await Promise.race([
      resent.then(() => 'answered'),
      sync.entered[1]?.promise.then(() => 'asked for a sync first'),
    ]);
    expect(firstToHappen).toBe('asked for a sync first');
    await macrotask();
    expect(state.settled).toBe(false);
    sync.gate.resolve();
    expect(await resent).toMatchObject({ outcome: 'approved' });
    expect((await first).record.seq).toBe(1);
  });

  it('a re-sent sale is not answered "approved" from a commit whose fsync failed', async () => {
    const sync = controlledWalSync(() => '', 'fail');
    const { ledger, rules, logLine } = canteenOn(sync.walSync);
    const sale = cardSale('04a1b2c3', 800);
    await expect(
      ledger.append({
        kind: 'sale',
        terminalId: 'pos-1',
        amountFen: sale.amountFen,
        payload: { receiptNo: sale.receiptNo },
        idempotencyKey: `sale:pos-1:${sale.receiptNo}`,
      }),
    ).rejects.toMatchObject({ code: 'LEDGER_SYNC_FAILED' });
    const resent = rules.decideSale('pos-1', sale);
    const state = settledState(resent);
    expect(await answeredOrLeft(resent, logLine(UNANSWERED))).toBe('left unanswered');
    await macrotask();
    expect(state).toEqual({ settled: false });
  });

  it('the callers of a group whose fsync failed are not told "declined": they get no answer', async () => {
    const sync = controlledWalSync(() => '', 'fail');
    const { ledger, rules, logLine } = canteenOn(sync.walSync);
    const sale = cardSale('04a1b2c3', 800);
    const decision = rules.decideSale('pos-1', sale);
    const state = settledState(decision);
    expect(await answeredOrLeft(decision, logLine(UNANSWERED))).toBe('left unanswered');
    await macrotask();
    expect(state).toEqual({ settled: false });
    // The sale is committed: "declined, nothing charged" would have been false.
    expect(ledger.findByIdempotencyKey(`sale:pos-1:${sale.receiptNo}`)?.amountFen).toBe(800);
    expect(ledger.fatal?.code).toBe('LEDGER_SYNC_FAILED');
    // A later request is refused before any commit, and gets no answer either (the box is exiting).
    const later = settledState(rules.decideSale('pos-2', cardSale('04a1b2c4', 300)));
    await macrotask();
    expect(later).toEqual({ settled: false });
    expect(sync.calls()).toBe(1);
  });

  it('a void whose group fsync failed gets no answer either', async () => {
    let ledgerPath = '';
    const held = controlledWalSync(() => ledgerPath, 'hold');
    const { ledger, rules, logLine } = canteenOn(held.walSync);
    ledgerPath = ledger.path;
    const sale = cardSale('04a1b2c3', 800);
    held.gate.resolve();
    expect(await rules.decideSale('pos-1', sale)).toMatchObject({ outcome: 'approved' });
    // The disk dies now: the next fsync fails.
    held.walSync.sync = () => Promise.reject(Object.assign(new Error('EIO'), { code: 'EIO' }));
    const decision = rules.decideVoid('pos-1', voidOf(sale));
    const state = settledState(decision);
    expect(await answeredOrLeft(decision, logLine(UNANSWERED))).toBe('left unanswered');
    await macrotask();
    expect(state).toEqual({ settled: false });
  });
});
