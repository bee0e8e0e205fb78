import type { SaleDecision } from '@sceneway/device-drivers';
import { describe, expect, it } from 'vitest';
import { driverRigPerTest } from './driver-test-rig.ts';

/**
 * The decision budget on an RS-485 bus (decisionBudgetMs, POS v2 contract "Timing"): a decision slower
 * than the budget releases the bus, and its answer is NOT written late (the bus is another terminal's by
 * then); the till's retransmission at its next poll gets it from the reply cache, once.
 */
const { startHarness, startSim } = driverRigPerTest('memory');

describe('decision budget on RS-485', () => {
  it('moves on after the budget and answers a slow sale once, at a later poll, deciding it once', async () => {
    let decide: (d: SaleDecision) => void = () => undefined;
    const held = new Promise<SaleDecision>((resolve) => {
      decide = resolve;
    });
    const h = await startHarness({
      decideSale: () => held,
      config: {
        mode: 'rs485',
        decisionBudgetMs: 50,
        terminals: [
          { id: 'till-5', address: 5 },
          { id: 'till-6', address: 6 },
        ],
      },
    });
    const s = await startSim(h, { mode: 'rs485', addresses: [5, 6], maxTries: 10 });
    await h.driver.start();
    for (const id of ['till-5', 'till-6']) {
      await h.waitForEvent((e) => e.type === 'terminal-up' && e.terminalId === id, 5000, 0);
    }
    const till = s.till(5);
    const swipe = till.swipe('04A1B2C3', 700);
    // Held past the budget: the till has sent its request again at a later poll, so the bus moved on.
    await expect.poll(() => till.terminal.requestFramesSent, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    const pollsOfOther = s.terminals.get(6)?.polls ?? 0;
    await expect.poll(() => s.terminals.get(6)?.polls ?? 0, { timeout: 5000 }).toBeGreaterThan(pollsOfOther);
    decide({ outcome: 'approved', balanceFen: 1 });
    expect((await swipe).decision.outcome).toBe('approved');
    expect(h.saleCalls).toHaveLength(1);
    // one answer on the bus: the late one was never written over another terminal's turn
    await expect
      .poll(() => s.terminals.get(6)?.polls ?? 0, { timeout: 5000 })
      .toBeGreaterThan(pollsOfOther + 2);
    expect(till.terminal.received.filter((r) => r.message.type === 'sale-result')).toHaveLength(1);
  });
});
