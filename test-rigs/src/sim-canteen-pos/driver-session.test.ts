import type { SaleDecision } from '@sceneway/device-drivers';
import { Command, encodeFrame } from '@sceneway/device-drivers';
import { describe, expect, it } from 'vitest';
import type { DriverHarnessOptions } from './driver-harness.ts';
import { driverRigPerTest } from './driver-test-rig.ts';
import type { CanteenPosSimOptions } from './sim.ts';

/**
 * Session behaviour on the memory line: watchdog, NAK storms, slow decisions, lifecycle, every message
 * type. The same driver over a real pty is covered by the conformance suite and canteen-e2e.
 */
const approve = (): SaleDecision => ({ outcome: 'approved' });

const { startTill, startHarness, startSim } = driverRigPerTest('memory');

const setUp = (driver: Partial<DriverHarnessOptions> = {}, simOptions: Partial<CanteenPosSimOptions> = {}) =>
  startTill({ decideSale: approve, ...driver }, simOptions);

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('watchdog and faults', () => {
  it('reports a silent terminal down and back up when it speaks again', async () => {
    const { h, s } = await setUp();
    const since = h.events.length;
    s.till().terminal.faults.silent = true;
    const down = await h.waitForEvent((e) => e.type === 'terminal-down', 5000, since);
    expect(down).toMatchObject({ terminalId: 'till-1', reason: expect.stringContaining('no answer') });
    // A port on which nothing arrives for 2 × silenceTimeoutMs is reopened (a wedged adapter).
    expect(h.portOpens).toBe(1);
    await expect.poll(() => h.portOpens, { timeout: 5000 }).toBeGreaterThanOrEqual(2);
    s.till().terminal.faults.silent = false;
    await h.waitForEvent((e) => e.type === 'terminal-up', 5000, since);
    expect((await s.till().swipe('04A1B2C3', 100)).decision.outcome).toBe('approved');
  });

  it('gives up after maxTries NAKs, reports it, and recovers when the storm ends', async () => {
    const { h, s } = await setUp();
    const since = h.events.length;
    s.till().terminal.faults.nakStorm = true;
    await h.waitForEvent((e) => e.type === 'frame-error' && e.code === 'POS_NAK_LIMIT', 5000, since);
    await h.waitForEvent((e) => e.type === 'terminal-down', 5000, since);
    s.till().terminal.faults.nakStorm = false;
    await h.waitForEvent((e) => e.type === 'terminal-up', 5000, since);
  });

  it('decides a sale once even when the terminal retransmits while the decision is in flight', async () => {
    // The decision is held until the terminal has resent its request: in flight by construction.
    let decide: (d: SaleDecision) => void = () => undefined;
    const held = new Promise<SaleDecision>((resolve) => {
      decide = resolve;
    });
    const { h, s } = await setUp({ decideSale: () => held }, { answerTimeoutMs: 100, maxTries: 8 });
    const till = s.till();
    const swipe = till.swipe('04A1B2C3', 100);
    await expect.poll(() => till.terminal.requestFramesSent, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    decide({ outcome: 'approved', balanceFen: 42 });
    expect(await swipe).toMatchObject({ decision: { outcome: 'approved' }, balanceFen: 42 });
    expect(h.saleCalls).toHaveLength(1);
  });

  it('declines with SYSTEM_ERROR when the agent fails, instead of leaving the diner waiting', async () => {
    const { s } = await setUp({
      decideSale: () => {
        throw new Error('ledger unavailable');
      },
    });
    const result = await s.till().swipe('04A1B2C3', 100);
    expect(result.decision).toEqual({ outcome: 'declined', reason: 'SYSTEM_ERROR' });
  });
});

describe('frames the box cannot use', () => {
  it('NAKs a malformed request and an unknown command with the reason, and reports them', async () => {
    // A v1 till (no MAC to check first), so the frames below reach the field checks; driver-auth.test.ts
    // shows the same frames refused SESSION_REQUIRED on a v2 till.
    const { h, s } = await setUp({
      config: { terminals: [{ id: 'till-1', address: 1, protocol: 1, insecure: { posProtocolV1: true } }] },
    });
    const terminal = s.till().terminal;
    const since = h.events.length;
    // A SALE_REQUEST with RECEIPT_NO only: no amount, no credential.
    s.line.sendFrame(
      encodeFrame({
        address: 1,
        seq: 200,
        command: Command.SALE_REQUEST,
        body: Buffer.from('0100040000000a', 'hex'),
      }),
    );
    s.line.sendFrame(encodeFrame({ address: 1, seq: 201, command: 0x7f, body: Buffer.alloc(0) }));
    s.line.sendFrame(encodeFrame({ address: 1, seq: 202, command: Command.POLL, body: Buffer.alloc(0) }));
    // A POLL from a terminal (a box-only command) is ignored, never NAKed (answers are never NAKed, POS v2
    // contract): wait for it to be counted, then for the two NAKs.
    await h.waitForEvent((e) => e.type === 'frame-error' && e.code === 'POS_UNEXPECTED_COMMAND', 5000, since);
    await expect.poll(() => terminal.received.filter((r) => r.message.type === 'nak').length).toBe(2);
    // Each NAK echoes the seq of the frame it refuses; the three are independent, so compare by seq.
    const naks = terminal.received
      .filter((r) => r.message.type === 'nak')
      .map((r) => [r.seq, r.message])
      .sort((x, y) => Number(x[0]) - Number(y[0]));
    expect(naks).toEqual([
      [200, { type: 'nak', reason: 'FIELD_MISSING' }],
      [201, { type: 'nak', reason: 'UNKNOWN_COMMAND' }],
    ]);
    const codes = h.events.slice(since).flatMap((e) => (e.type === 'frame-error' ? [e.code] : []));
    expect(codes).toEqual(['POS_FIELD_MISSING', 'POS_UNKNOWN_COMMAND', 'POS_UNEXPECTED_COMMAND']);
    expect(h.saleCalls).toHaveLength(0);
  });
});

describe('lifecycle', () => {
  it('start and stop are idempotent; a stopped driver sends nothing and reports nothing', async () => {
    const { h, s } = await setUp();
    await Promise.all([h.driver.start(), h.driver.start()]);
    await Promise.all([h.driver.stop(), h.driver.stop()]);
    await h.driver.stop();
    const events = h.events.length;
    const polls = s.till().terminal.polls + s.till().terminal.timeSyncs;
    await pause(1500); // longer than silenceTimeoutMs: a live watchdog would report the terminal down
    expect(h.events.length).toBe(events);
    expect(s.till().terminal.polls + s.till().terminal.timeSyncs).toBe(polls);

    const since = h.events.length;
    await h.driver.start();
    await h.driver.start();
    await h.waitForEvent((e) => e.type === 'terminal-up', 5000, since);
    expect((await s.till().swipe('04A1B2C3', 100)).decision.outcome).toBe('approved');
    expect(h.events.slice(since).filter((e) => e.type === 'terminal-up')).toHaveLength(1);
  });

  it("stops by itself when the agent's AbortSignal fires", async () => {
    const { h, s } = await setUp();
    h.abortSignal();
    await pause(100);
    const seen = s.till().terminal.polls;
    const events = h.events.length;
    await pause(400);
    expect(s.till().terminal.polls).toBe(seen);
    expect(h.events.length).toBe(events);
    await h.driver.start(); // a driver whose agent is shutting down does not start again
    await pause(200);
    expect(s.till().terminal.polls).toBe(seen);
  });

  it('starts without the port, reports the terminal down, and comes up when the port appears', async () => {
    const h = await startHarness({ decideSale: approve });
    await h.unplug();
    await h.driver.start();
    const down = await h.waitForEvent((e) => e.type === 'terminal-down', 5000, 0);
    expect(down).toMatchObject({ reason: expect.stringContaining('not available') });
    await h.replug();
    const sim = await startSim(h);
    await h.waitForEvent((e) => e.type === 'terminal-up', 5000, 0);
    expect((await sim.till().swipe('04A1B2C3', 100)).decision.outcome).toBe('approved');
  });
});

describe('every terminal request', () => {
  it('serves void, offline upload, price list and blacklist version', async () => {
    const priceItems = Array.from({ length: 45 }, (_, i) => ({
      code: i + 1,
      name: `套餐${i + 1}`,
      priceFen: 500 + i,
    }));
    const { h, s } = await setUp({
      config: { priceList: { version: 7, items: priceItems } },
      decideVoid: (_id, request) =>
        request.originalReceiptNo === 1
          ? { outcome: 'approved' }
          : { outcome: 'declined', reason: 'VOID_NOT_FOUND', displayText: '原交易不存在' },
      decideSale: (_id, sale) =>
        sale.amountFen > 5000
          ? { outcome: 'declined', reason: 'FLOOR_LIMIT', displayText: '超出离线限额' }
          : { outcome: 'approved' },
    });
    const till = s.till();
    expect((await till.swipe('04A1B2C3', 1250)).decision.outcome).toBe('approved');
    expect((await till.voidSale(1, 1250)).decision).toEqual({ outcome: 'approved' });
    expect((await till.voidSale(99, 1250)).decision).toEqual({
      outcome: 'declined',
      reason: 'VOID_NOT_FOUND',
    });

    const t = Math.floor(Date.now() / 1000) - 600;
    const records = Array.from({ length: 40 }, (_, i) => ({
      kind: 'sale' as const,
      receiptNo: 1000 + i,
      amountFen: i === 39 ? 9000 : 300,
      credential:
        i % 2 === 0
          ? { kind: 'card' as const, uidHex: '04A1B2C3' }
          : { kind: 'qr' as const, token: `QR-${i}` },
      terminalTime: t + i,
    }));
    const results = await till.uploadOffline(records);
    expect(results).toHaveLength(40);
    // RECORD_RESULT: the harness's agent declines the 40th, so it is "not recorded", RESULT 2.
    expect(results[0]).toMatchObject({ receiptNo: 1000, result: 0, decision: { outcome: 'approved' } });
    expect(results[39]).toMatchObject({
      receiptNo: 1039,
      result: 2,
      decision: { outcome: 'declined', reason: 'FLOOR_LIMIT' },
    });
    const offlineCalls = h.saleCalls.filter((c) => c.sale.offline);
    expect(offlineCalls).toHaveLength(40);
    expect(offlineCalls[1]?.sale.credential).toEqual({ kind: 'qr', token: 'QR-1' });

    const list = await till.downloadPriceList();
    expect(list.version).toBe(7);
    expect(list.items).toEqual(priceItems);
    expect(await till.queryBlacklistVersion()).toBe(0);
    await expect.poll(() => till.terminal.knownPriceListVersion).toBe(7);
  });
});
