import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { openPtyPair, type PtyPair } from '../pty/pty-pair.ts';
import { DocBoxPeer, type DocBoxPeerOptions } from './doc-box-peer.ts';
import { type CanteenPosSim, type CanteenPosSimOptions, startCanteenPosSim } from './sim.ts';
import { NakError, NoAnswerError } from './sim-terminal.ts';
import type { TillKey } from './wire/index.ts';

/**
 * The simulator's protocol 2 against a box written from the document (doc-box-peer.ts), over a real pty
 * pair. Until the driver speaks v2 this is what keeps the terminal side honest; the lead runs the same
 * simulator against the real driver after the merge.
 */
const KEY: TillKey = { version: 1, key: randomBytes(32) };

let pair: PtyPair | undefined;
let box: DocBoxPeer | undefined;
let sim: CanteenPosSim | undefined;
afterEach(async () => {
  await sim?.close();
  await box?.close();
  await pair?.close();
  sim = box = pair = undefined;
});

async function setUp(
  boxOptions: Partial<DocBoxPeerOptions> = {},
  simOptions: Partial<CanteenPosSimOptions> = {},
): Promise<{ box: DocBoxPeer; sim: CanteenPosSim }> {
  pair = await openPtyPair();
  box = await DocBoxPeer.start({ path: pair.a, keys: { 1: [KEY] }, ...boxOptions });
  sim = await startCanteenPosSim({
    path: pair.b,
    baudRate: 115200,
    key: KEY,
    answerTimeoutMs: 300,
    ...simOptions,
  });
  return { box, sim };
}

describe('simulator protocol 2 against a box written from the document', () => {
  it('opens a session with a mutual proof, then MACs every money frame with a rising counter', async () => {
    const { box, sim } = await setUp();
    const till = sim.till();
    expect(till.terminal.protocol).toBe(2);
    expect((await till.swipe('04A1B2C3', 1250)).decision).toEqual({ outcome: 'approved' });
    expect((await till.qrPay('QR1.abc', 800)).decision).toEqual({ outcome: 'approved' });
    expect(till.terminal.sessionsOpened).toBe(1);
    // The box accepted both (it refuses a bad MAC or an old counter), and nothing was refused.
    expect(box.decided.map((m) => m.type)).toEqual(['sale-request', 'sale-request']);
    expect(box.refusals).toEqual([]);
    const counters = till.terminal.sentRequests
      .filter((f) => f[3] === 0x41)
      .map((f) => f.readUInt32BE(f.length - 3 - 19 - 4));
    expect(counters).toEqual([1, 2]);
  });

  it('takes a box answer whose MAC does not verify as no answer, resends, and gets the genuine one', async () => {
    const { box, sim } = await setUp();
    const till = sim.till();
    await till.swipe('04A1B2C3', 100); // session up
    box.forgeNextAnswerMac = true;
    const result = await till.swipe('04A1B2C3', 200);
    expect(result.decision).toEqual({ outcome: 'approved' });
    expect(till.terminal.refusedBoxFrames).toBe(1);
    expect(box.decided).toHaveLength(2); // the resend hit the reply cache: decided once
  });

  it('refuses a box whose challenge proof is wrong: no confirm, no sale sent', async () => {
    const { box, sim } = await setUp();
    box.forgeNextProof = true;
    await expect(sim.till().swipe('04A1B2C3', 100)).rejects.toThrow(/box not authentic/);
    expect(sim.till().terminal.boxNotAuthentic).toBe(1);
    expect(sim.till().terminal.sentRequests.map((f) => f[3])).toEqual([0x46]);
    expect(box.decided).toEqual([]);
  });

  it('reopens its session after the box restarts (NAK SESSION_REQUIRED) and the sale goes through once', async () => {
    const { box, sim } = await setUp();
    const till = sim.till();
    await till.swipe('04A1B2C3', 100);
    box.restart();
    expect((await till.swipe('04A1B2C3', 200)).decision.outcome).toBe('approved');
    expect(box.refusals).toEqual(['SESSION_REQUIRED']);
    expect(till.terminal.sessionsOpened).toBe(2);
    expect(box.ledger.size).toBe(2);
  });

  it('the box refuses a forged MAC, a missing MAC and an old counter, and decides none of them', async () => {
    const { box, sim } = await setUp();
    const terminal = sim.till().terminal;
    await sim.till().swipe('04A1B2C3', 100);
    const sale = { type: 'sale-request', receiptNo: 77, amountFen: 49_999, terminalTime: 1 } as const;
    expect(await terminal.sendForged(sale, 'bad-mac')).toEqual({ type: 'nak', reason: 'MAC_INVALID' });
    expect(await terminal.sendForged(sale, 'no-mac')).toEqual({ type: 'nak', reason: 'MAC_INVALID' });
    expect(await terminal.sendForged(sale, 'old-counter')).toEqual({ type: 'nak', reason: 'REPLAYED' });
    expect(box.decided).toHaveLength(1);
    expect(box.ledger.has('1:77')).toBe(false);
  });

  it('a captured sale replayed later is refused as REPLAYED once the box has moved on', async () => {
    const { box, sim } = await setUp();
    const till = sim.till();
    await till.swipe('04A1B2C3', 100);
    const captured = till.terminal.sentRequests.find((f) => f[3] === 0x41)!;
    // Nine newer requests push the captured one out of the box's 8-entry reply cache.
    for (let i = 0; i < 9; i++) await till.swipe('04A1B2C3', 10 + i);
    expect(await till.terminal.replay(captured)).toEqual({ type: 'nak', reason: 'REPLAYED' });
    expect(box.decided).toHaveLength(10);
  });

  it('seals offline records with RECORD_MAC; forged record MACs are answered RESULT 2 and not recorded', async () => {
    const { box, sim } = await setUp();
    const till = sim.till();
    const record = (receiptNo: number) => ({
      kind: 'sale' as const,
      receiptNo,
      amountFen: 600,
      credential: { kind: 'card' as const, uidHex: '04A1B2C3' },
      terminalTime: 1_767_240_000,
    });
    const ok = await till.uploadOffline([record(1200), record(1201)]);
    expect(ok.map((r) => r.result)).toEqual([0, 0]);
    till.terminal.faults.forgeRecordMacs = true;
    const forged = await till.uploadOffline([record(1300)]);
    expect(forged).toEqual([
      { receiptNo: 1300, decision: { outcome: 'declined', reason: 'RECORD_MAC_INVALID' }, result: 2 },
    ]);
    expect([...box.ledger.keys()]).toEqual(['1:1200', '1:1201']);
  });

  it('recovers a sale whose answer never came by asking SALE_STATUS, and never guesses', async () => {
    const { box, sim } = await setUp({}, { maxTries: 2, answerTimeoutMs: 200 });
    const till = sim.till();
    await till.swipe('04A1B2C3', 100);
    const receipt = till.nextReceiptNo;
    box.muteAnswers = 2; // committed, then the box "crashes" before any answer leaves it
    await expect(till.swipe('04A1B2C3', 1250)).rejects.toBeInstanceOf(NoAnswerError);
    expect(till.unanswered.has(receipt)).toBe(true);
    const status = await till.recover(receipt);
    expect(status).toEqual({
      type: 'sale-status',
      receiptNo: receipt,
      state: 'approved',
      recordKind: 'sale',
      amountFen: 1250,
    });
    expect(till.unanswered.size).toBe(0);
    expect(await till.saleStatus(999)).toEqual({ type: 'sale-status', receiptNo: 999, state: 'unknown' });
  });

  it('verifies TIME_SYNC: genuine is applied and ACKed, a copy ACKed again, forged or replayed NAKed and ignored', async () => {
    const { box, sim } = await setUp();
    const terminal = sim.till().terminal;
    await sim.till().swipe('04A1B2C3', 100);
    const first = box.sendTimeSync(1, Date.now() + 60_000);
    await expect.poll(() => box.terminalAnswers).toEqual(['ACK']);
    expect(terminal.clockOffsetMs).toBeGreaterThan(30_000);
    box.sendRaw(first); // the box did not hear the ACK and sends the same bytes again
    await expect.poll(() => box.terminalAnswers).toEqual(['ACK', 'ACK']);
    expect(terminal.timeSyncs).toBe(1);
    box.sendTimeSync(1, Date.now() - 3_600_000, true);
    await expect.poll(() => box.terminalAnswers.length).toBe(3);
    for (let i = 0; i < 8; i++) box.sendTimeSync(1, Date.now());
    await expect.poll(() => box.terminalAnswers.length).toBe(11);
    box.sendRaw(first); // long after: no longer a retransmission, a replay
    await expect.poll(() => box.terminalAnswers.length).toBe(12);
    expect(box.terminalAnswers[2]).toBe('MAC_INVALID');
    expect(box.terminalAnswers[11]).toBe('REPLAYED');
    expect(terminal.timeSyncs).toBe(9);
  });

  it('a wrong key version or a wrong terminal proof is refused AUTH_FAILED', async () => {
    const first = await setUp({}, { key: { version: 9, key: KEY.key } });
    await expect(first.sim.till().swipe('04A1B2C3', 100)).rejects.toEqual(new NakError('AUTH_FAILED'));
    await first.sim.close();
    const second = await startCanteenPosSim({
      path: pair!.b,
      baudRate: 115200,
      key: KEY,
      answerTimeoutMs: 300,
    });
    sim = second;
    second.till().terminal.faults.wrongProof = true;
    await expect(second.till().swipe('04A1B2C3', 100)).rejects.toEqual(new NakError('AUTH_FAILED'));
    const box = first.box;
    expect(box.refusals).toEqual(['AUTH_FAILED', 'AUTH_FAILED']);
    expect(box.decided).toEqual([]);
  });

  it('RS-485: each address opens its own session with its own key, in answer to polls', async () => {
    const other: TillKey = { version: 3, key: randomBytes(32) };
    const { box, sim } = await setUp(
      { keys: { 1: [KEY], 2: [other] } },
      { mode: 'rs485', addresses: [1, 2], keys: { 1: KEY, 2: other } },
    );
    const results = await Promise.all([
      sim.till(1).swipe('04A1B2C3', 100),
      sim.till(2).swipe('04A1B2C4', 200),
    ]);
    expect(results.map((r) => r.decision.outcome)).toEqual(['approved', 'approved']);
    expect([...box.ledger.keys()].sort()).toEqual(['1:1', '2:1']);
    expect(box.refusals).toEqual([]);
    expect(sim.terminals.get(2)?.sessionsOpened).toBe(1);
  });

  it('sell reuses a receipt on demand (other content: DUPLICATE_RECEIPT) and retry re-asks the same content', async () => {
    const { box, sim } = await setUp({}, { maxTries: 1, answerTimeoutMs: 200 });
    const till = sim.till();
    const first = await till.sell({
      amountFen: 800,
      credential: { kind: 'card', uidHex: '04A1B2C3' },
      terminalTime: 1_767_240_000,
    });
    const reused = await till.sell({
      receiptNo: first.receiptNo,
      amountFen: 800,
      credential: { kind: 'qr', token: 'QR1.x' },
    });
    expect(reused.decision).toEqual({ outcome: 'declined', reason: 'DUPLICATE_RECEIPT' });
    box.muteAnswers = 1;
    const lost = till.nextReceiptNo;
    await expect(till.swipe('04A1B2C3', 450)).rejects.toBeInstanceOf(NoAnswerError);
    expect((await till.retry(lost)).decision).toEqual({ outcome: 'approved' });
    expect(till.unanswered.size).toBe(0);
    const asks = box.decided.filter((m) => m.type === 'sale-request' && m.receiptNo === lost);
    expect(asks.map((m) => (m.type === 'sale-request' ? [m.amountFen, m.credential] : []))).toEqual([
      [450, { kind: 'card', uidHex: '04A1B2C3' }],
      [450, { kind: 'card', uidHex: '04A1B2C3' }],
    ]);
    expect(box.ledger.get(`1:${lost}`)?.amountFen).toBe(450);
  });

  it('a sale that could not go out because no session opened is not an unresolved receipt', async () => {
    const { box, sim } = await setUp({}, { maxTries: 1, answerTimeoutMs: 150 });
    box.muteAnswers = 1; // the SESSION_CHALLENGE is lost
    await expect(sim.till().swipe('04A1B2C3', 100)).rejects.toBeInstanceOf(NoAnswerError);
    expect(sim.till().unanswered.size).toBe(0);
    expect(sim.till().terminal.sentRequests.map((f) => f[3])).toEqual([0x46]);
  });
});
