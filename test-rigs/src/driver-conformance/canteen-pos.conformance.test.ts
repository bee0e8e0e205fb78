import type { SaleDecision } from '@sceneway/device-drivers';
import { startDriverHarness } from '../sim-canteen-pos/driver-harness.ts';
import { startCanteenPosSim } from '../sim-canteen-pos/index.ts';
import { type ConformanceRig, runDriverConformance } from './conformance-suite.ts';

/**
 * The canteen POS driver through the conformance suite: the production driver and serial transport on
 * one end of a socat pty pair, the terminal simulator on the other (the same harness as driver-e2e).
 */
const SILENCE_TIMEOUT_MS = 1000;
const approve = (): SaleDecision => ({ outcome: 'approved' });

async function canteenRig(): Promise<ConformanceRig> {
  const h = await startDriverHarness({
    decideSale: approve,
    line: 'pty',
    config: { silenceTimeoutMs: SILENCE_TIMEOUT_MS, ackTimeoutMs: 150, maxTries: 3 },
  });
  const sim = await startCanteenPosSim({ ...h.simLine, answerTimeoutMs: 400 });
  const till = sim.till();
  let card = 0;
  return {
    driver: h.driver,
    events: h.events,
    transportOpens: () => h.portOpens,
    async traffic() {
      // The receipt number is taken when swipe() is called, so concurrent swipes get distinct keys.
      const receiptNo = till.nextReceiptNo;
      const uid = `04C0FFEE${(card++ & 0xff).toString(16).padStart(2, '0').toUpperCase()}`;
      const result = await till.swipe(uid, 100 + receiptNo);
      if (result.receiptNo !== receiptNo || result.decision.outcome !== 'approved') {
        throw new Error(`sale ${receiptNo} not approved: ${JSON.stringify(result)}`);
      }
      return `till-1#${receiptNo}`;
    },
    delivered: () => h.saleCalls.map((c) => `${c.terminalId}#${c.sale.receiptNo}`),
    async junk() {
      sim.injectJunk();
      sim.injectJunk(Buffer.from('garbage without a start byte'));
      await sim.line.flushed();
    },
    setSilent(silent) {
      till.terminal.faults.silent = silent;
    },
    dropTransport: () => h.unplug(),
    async restoreTransport() {
      await h.replug();
      await sim.reopen();
    },
    async close() {
      await sim.close();
      await h.close();
    },
  };
}

runDriverConformance({
  family: 'canteen-pos over a socat pty pair',
  silenceTimeoutMs: SILENCE_TIMEOUT_MS,
  junkRaisesFrameError: true,
  setup: canteenRig,
});
