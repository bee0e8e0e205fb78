import type { SaleDecision, SaleRequest } from '@sceneway/device-drivers';
import { describe, expect, it } from 'vitest';
import type { DriverHarness } from './driver-harness.ts';
import { driverRigPerTest } from './driver-test-rig.ts';

/**
 * Driver ↔ simulator on the memory line: what the driver does with the line's troubles (retransmitted
 * and lost frames, junk, bad CRCs, split frames, an unplug, a line that pushes back). The test plays
 * the agent: it approves every card except a blacklisted one. The production byte path (serialport on
 * socat ptys) is covered once per scenario by canteen-e2e, and by the conformance suite.
 */
const BLACKLISTED_UID = '04DEAD00BEEF';

function decide(_terminalId: string, sale: SaleRequest): SaleDecision {
  if (sale.credential?.kind === 'card' && sale.credential.uidHex === BLACKLISTED_UID) {
    return { outcome: 'declined', reason: 'BLACKLISTED', displayText: '卡已挂失' };
  }
  return { outcome: 'approved', balanceFen: 10_000 - sale.amountFen };
}

const { startTill } = driverRigPerTest('memory');

const rs232 = () => startTill({ decideSale: decide });

const callsFor = (h: DriverHarness, receiptNo: number) =>
  h.saleCalls.filter((c) => c.sale.receiptNo === receiptNo).length;

describe('canteen POS driver on one line (RS-232)', () => {
  it('approves a swipe and declines a blacklisted card with the right reason', async () => {
    const { h, s } = await rs232();
    const till = s.till();
    const ok = await till.swipe('04A1B2C3', 1250);
    expect(ok.decision).toEqual({ outcome: 'approved' });
    expect(ok.balanceFen).toBe(10_000 - 1250);
    expect(ok.displayText).toBe('支付成功');
    const no = await till.swipe(BLACKLISTED_UID, 800);
    expect(no.decision).toEqual({ outcome: 'declined', reason: 'BLACKLISTED' });
    expect(no.displayText).toBe('卡已挂失');
    expect(h.saleCalls.map((c) => c.sale.credential)).toEqual([
      { kind: 'card', uidHex: '04A1B2C3' },
      { kind: 'card', uidHex: BLACKLISTED_UID },
    ]);
    // The box syncs the terminal's clock once the session is open (v2: TIME_SYNC carries a MAC).
    await expect.poll(() => till.terminal.timeSyncs).toBeGreaterThanOrEqual(1);
  });

  it('answers a retransmitted sale frame again with the same reply and decides it once', async () => {
    const { h, s } = await rs232();
    const till = s.till();
    // A first sale opens the session, so the duplicated request below is the sale, not SESSION_OPEN.
    expect((await till.swipe('04A1B2C3', 100)).decision.outcome).toBe('approved');
    const heardBefore = till.terminal.heardAnswers.length;
    till.terminal.faults.duplicateNextRequest = true;
    const receiptNo = till.nextReceiptNo;
    const result = await till.swipe('04A1B2C3', 500);
    expect(result.decision.outcome).toBe('approved');
    // Both copies are answered, byte for byte the same (so the second carries the first's MAC counter,
    // which the till, having taken the first, refuses as a replay): wait for it, then compare.
    const saleResults = () => till.terminal.heardAnswers.slice(heardBefore).filter((f) => f.command === 0x32);
    await expect.poll(() => saleResults().length).toBe(2);
    const [copy1, copy2] = saleResults();
    expect(copy1).toEqual(copy2);
    expect(callsFor(h, receiptNo)).toBe(1);

    // Lost answer: the terminal resends after its timeout and gets the cached reply.
    till.terminal.faults.dropNextAnswer = true;
    const second = till.nextReceiptNo;
    const again = await till.swipe('04A1B2C3', 700);
    expect(again.receiptNo).toBe(second);
    expect(again.decision.outcome).toBe('approved');
    expect(callsFor(h, second)).toBe(1);
  });

  it('survives junk, a bad CRC and frames split across writes', async () => {
    const { h, s } = await rs232();
    const till = s.till();
    const since = h.events.length;
    // The garbage goes first, on a clean line, and is seen as junk before the random junk follows:
    // random bytes may hold a start byte whose length field leaves a damaged candidate open, and bytes
    // read with a damaged candidate belong to its stretch and are reported with its first cause
    // (canteen-pos.md §11), so garbage sent after it could never be reported as junk of its own (red
    // twice in full runs, depending on the random bytes).
    s.injectJunk(Buffer.from('garbage without a start byte'));
    await h.waitForEvent(
      (e) => e.type === 'frame-error' && (e.code === 'POS_FRAME_JUNK' || e.code === 'POS_FRAME_TRUNCATED'),
      5000,
      since,
    );
    s.injectJunk();
    const first = await till.swipe('04A1B2C3', 100);
    expect(first.decision.outcome).toBe('approved');

    s.line.faults.badCrcFrames = 1;
    const crcReceipt = till.nextReceiptNo;
    const second = await till.swipe('04A1B2C3', 200);
    expect(second.decision.outcome).toBe('approved');
    expect(callsFor(h, crcReceipt)).toBe(1);

    s.line.faults.splitChunkBytes = 2;
    const third = await till.swipe('04A1B2C3', 300);
    expect(third.decision.outcome).toBe('approved');
    s.line.faults.splitChunkBytes = 0;

    const codes = new Set(h.events.slice(since).flatMap((e) => (e.type === 'frame-error' ? [e.code] : [])));
    expect(codes.has('POS_FRAME_CRC')).toBe(true);
    expect(codes.has('POS_FRAME_JUNK') || codes.has('POS_FRAME_TRUNCATED')).toBe(true);
    expect(h.events.slice(since).some((e) => e.type === 'terminal-down')).toBe(false);
  });

  it('reports the terminal down on unplug, up after replug, and sales continue', async () => {
    const { h, s } = await rs232();
    const till = s.till();
    expect((await till.swipe('04A1B2C3', 100)).decision.outcome).toBe('approved');
    const since = h.events.length;
    await h.unplug();
    await h.waitForEvent((e) => e.type === 'terminal-down', 5000, since);
    await h.replug();
    await s.reopen();
    await h.waitForEvent((e) => e.type === 'terminal-up', 5000, since);
    const after = await till.swipe('04A1B2C3', 200);
    expect(after.decision.outcome).toBe('approved');
    const kinds = h.events.slice(since).filter((e) => e.type === 'terminal-up' || e.type === 'terminal-down');
    expect(kinds.map((e) => e.type)).toEqual(['terminal-down', 'terminal-up']);
  });

  it('answers late but loses and doubles nothing while the line pushes back', async () => {
    // A long silence timeout: polls are held too, and a held line is not a silent terminal.
    const { h, s } = await startTill({ decideSale: decide, config: { silenceTimeoutMs: 10_000 } });
    const till = s.till();
    const port = h.memoryPort;
    // A first sale opens the session (a held line would hold the handshake too).
    expect((await till.swipe('04A1B2C3', 100)).decision.outcome).toBe('approved');
    const sentBefore = till.terminal.requestFramesSent;
    const answersBefore = till.terminal.received.filter((r) => r.message.type === 'sale-result').length;
    port.hold();
    const receiptNo = till.nextReceiptNo;
    const swipe = till.swipe('04A1B2C3', 900);
    // Decided, and its answer handed to a line that has not taken it yet...
    await expect.poll(() => callsFor(h, receiptNo)).toBe(1);
    await expect.poll(() => port.heldWrites).toBeGreaterThanOrEqual(1);
    // ...while the terminal, hearing nothing, sends the request again.
    await expect
      .poll(() => till.terminal.requestFramesSent, { timeout: 5000 })
      .toBeGreaterThanOrEqual(sentBefore + 2);
    expect(till.terminal.received.filter((r) => r.message.type === 'sale-result')).toHaveLength(
      answersBefore,
    );
    port.release();
    expect((await swipe).decision.outcome).toBe('approved');
    expect(callsFor(h, receiptNo)).toBe(1);
    expect(h.events.some((e) => e.type === 'terminal-down')).toBe(false);
  });
});
