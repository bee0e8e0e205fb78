import type { SaleDecision } from '@sceneway/device-drivers';
import { describe, expect, it } from 'vitest';
import { driverRigPerTest } from './driver-test-rig.ts';

// RS-485 multidrop on one memory line: the box polls each address in turn; terminals speak only when polled.

const { startHarness, startSim } = driverRigPerTest('memory');

describe('canteen POS driver on an RS-485 bus', () => {
  it('polls every address, serves concurrent sales, and one absent terminal does not stall the others', async () => {
    const h = await startHarness({
      decideSale: (terminalId, sale): SaleDecision => ({
        outcome: 'approved',
        displayText: `${terminalId}#${sale.receiptNo}`,
      }),
      config: {
        mode: 'rs485',
        terminals: [
          { id: 'till-1', address: 1 },
          { id: 'till-2', address: 2 },
          { id: 'till-3', address: 3 },
          { id: 'till-absent', address: 9 },
        ],
      },
    });
    const s = await startSim(h, { mode: 'rs485', addresses: [1, 2, 3] });
    await h.driver.start();
    for (const id of ['till-1', 'till-2', 'till-3']) {
      await h.waitForEvent((e) => e.type === 'terminal-up' && e.terminalId === id, 5000, 0);
    }
    await h.waitForEvent((e) => e.type === 'terminal-down' && e.terminalId === 'till-absent', 5000, 0);

    const swipes = [1, 2, 3, 1, 3].map((address, i) => s.till(address).swipe('04A1B2C3', 100 + i));
    const results = await Promise.all(swipes);
    expect(results.map((r) => r.displayText)).toEqual([
      'till-1#1',
      'till-2#1',
      'till-3#1',
      'till-1#2',
      'till-3#2',
    ]);
    expect(h.saleCalls).toHaveLength(5);
    for (const address of [1, 2, 3]) expect(s.terminals.get(address)?.polls).toBeGreaterThan(0);
    expect(h.events.some((e) => e.type === 'terminal-up' && e.terminalId === 'till-absent')).toBe(false);
  });

  it('answers a repeated request on the next poll from the cache', async () => {
    const h = await startHarness({
      decideSale: (): SaleDecision => ({ outcome: 'approved' }),
      config: { mode: 'rs485', terminals: [{ id: 'till-5', address: 5 }] },
    });
    const s = await startSim(h, { mode: 'rs485', addresses: [5] });
    await h.driver.start();
    await h.waitForEvent((e) => e.type === 'terminal-up', 5000, 0);
    const till = s.till(5);
    // A first sale opens the session, so the dropped answer below is the sale's, not the challenge.
    expect((await till.swipe('04A1B2C3', 200)).decision.outcome).toBe('approved');
    till.terminal.faults.dropNextAnswer = true;
    const result = await till.swipe('04A1B2C3', 300);
    expect(result.decision.outcome).toBe('approved');
    // One answer for the first sale; the dropped one and its copy from the cache for the second.
    expect(till.terminal.received.filter((r) => r.message.type === 'sale-result')).toHaveLength(3);
    expect(h.saleCalls).toHaveLength(2);
  });

  it('takes the bus in turn for live heartbeats (probe): every till answers, sales go on, nothing collides', async () => {
    const h = await startHarness({
      decideSale: (): SaleDecision => ({ outcome: 'approved' }),
      config: {
        mode: 'rs485',
        terminals: [
          { id: 'till-1', address: 1 },
          { id: 'till-2', address: 2 },
          { id: 'till-absent', address: 9 },
        ],
      },
    });
    const s = await startSim(h, { mode: 'rs485', addresses: [1, 2], firmwareVersion: 'CP-2.1' });
    await h.driver.start();
    for (const id of ['till-1', 'till-2']) {
      await h.waitForEvent((e) => e.type === 'terminal-up' && e.terminalId === id, 5000, 0);
    }
    // A first sale each opens the tills' sessions (a sale before that is NAKed SESSION_REQUIRED, by design).
    for (const address of [1, 2]) await s.till(address).swipe('04A1B2C3', 50);
    // Heartbeats asked for all at once, while the polling loop runs and two sales are on the bus.
    const sales = [s.till(1).swipe('04A1B2C3', 100), s.till(2).swipe('04A1B2C3', 200)];
    const probes = await Promise.all(
      ['till-1', 'till-2', 'till-1', 'till-2', 'till-absent'].map((id) => h.driver.probe!(id)),
    );
    expect((await Promise.all(sales)).map((r) => r.decision.outcome)).toEqual(['approved', 'approved']);
    for (const probe of probes.slice(0, 4)) {
      expect(probe).toMatchObject({ outcome: 'answered', firmwareVersion: 'CP-2.1' });
    }
    expect(probes[4]).toMatchObject({ outcome: 'failed', code: 'POS_NO_ANSWER' });
    expect(await h.driver.probe!('no-such-till')).toMatchObject({
      outcome: 'failed',
      code: 'POS_UNKNOWN_TERMINAL',
    });
    // A frame written over another conversation loses that conversation's answer: the box then sends its
    // frame again with the same seq. One conversation at a time means no (address, seq) arrives twice.
    const boxFrames = [1, 2].flatMap((address) =>
      s.terminals
        .get(address)!
        .received.filter((r) => r.message.type === 'poll' || r.message.type === 'time-sync')
        .map((r) => `${r.address}:${r.seq}`),
    );
    expect(boxFrames.length).toBeGreaterThan(4);
    expect(boxFrames.length - new Set(boxFrames).size).toBe(0);
    expect(h.events.filter((e) => e.type === 'frame-error')).toEqual([]);
    expect(h.events.some((e) => e.type === 'terminal-down' && e.terminalId !== 'till-absent')).toBe(false);
  });
});
