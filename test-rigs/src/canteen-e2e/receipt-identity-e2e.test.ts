import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BankServer } from '@sceneway/cloud-sync/bank';
import type { FullBoxConfig } from '@sceneway/gateway-agent';
import { type RunningAgent, silentLogger, startAgent } from '@sceneway/gateway-agent';
import { waitFor } from '@sceneway/gateway-agent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  demoBoxConfig,
  enrolBox,
  ensureDemoBoxKeys,
  provisionDemoTills,
  startDemoBank,
} from '../demo-site/demo-parts.ts';
import { STOLEN_CARD } from '../demo-site/scripted-day.ts';
import { openPtyPair, type PtyPair } from '../pty/pty-pair.ts';
import {
  type CanteenPosSim,
  type SimTill,
  startCanteenPosSim,
  type TillKey,
} from '../sim-canteen-pos/index.ts';

/**
 * Issue #12's first two findings over real ptys, every part real (simulated till → canteen-pos driver
 * → agent → canteen rules → ledger): a receipt number reused for the same amount with another card
 * is not answered from the first sale, and a sale declined live and then uploaded offline is
 * recorded once, flagged, not as a clean approval (docs/decisions.md D29).
 */
const TILL = 'e2e-receipts';
const CARD = '04A1B2C3D4';
const OTHER_CARD = '04FFEEDDCC';

let dataDir: string;
let bank: BankServer;
let pair: PtyPair;
let config: FullBoxConfig;
let agent: RunningAgent;
let sim: CanteenPosSim;
let secrets: ReturnType<typeof ensureDemoBoxKeys>;
let tillKey: TillKey | undefined;
let till: SimTill;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const recordsOf = (receiptNo: number) =>
  agent.ledger.db
    .prepare<[string], { kind: string; payload: string }>(
      'SELECT kind, payload FROM records WHERE idempotency_key = ?',
    )
    .all(`sale:${TILL}:${receiptNo}`)
    .map((r) => ({ kind: r.kind, payload: JSON.parse(r.payload) as Record<string, unknown> }));

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sceneway-receipt-e2e-'));
  const demoBank = await startDemoBank(dataDir, 0);
  bank = demoBank.bank;
  secrets = ensureDemoBoxKeys(dataDir);
  const ptyDir = join(dataDir, 'pty');
  mkdirSync(ptyDir);
  pair = await openPtyPair(ptyDir);
  config = demoBoxConfig({
    dataDir,
    ports: { admin: 0, broker: 0, bank: 0 },
    bankUrl: bank.url,
    bankPrivateKeyHex: demoBank.privateKeyHex,
    canteenLines: [{ terminalId: TILL, path: pair.a }],
  });
  await enrolBox(bank, config, secrets, demoBank.privateKeyHex);
  tillKey = provisionDemoTills(config, secrets).get(TILL);
  agent = await startAgent({ config, secrets, logger: silentLogger });
  sim = await startCanteenPosSim({ path: pair.b, baudRate: 115200, ...(tillKey ? { key: tillKey } : {}) });
  till = sim.till();
  await waitFor(
    () => agent.status().terminals.some((t) => t.id === TILL && t.up),
    'the till to come up',
    15_000,
  );
}, 60_000);

afterAll(async () => {
  await sim?.close();
  await agent?.stop();
  await pair?.close();
  await bank?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('a receipt is its content, over real ptys', () => {
  it('declines a receipt reused for the same amount with another card, records nothing, and alerts', async () => {
    const first = await till.swipe(CARD, 700);
    expect(first.decision).toEqual({ outcome: 'approved' });
    // A till that lost its receipt counter: the same number, the same price, the next diner's card.
    const reused = await till.terminal.request({
      type: 'sale-request',
      receiptNo: first.receiptNo,
      amountFen: 700,
      credential: { kind: 'card', uidHex: OTHER_CARD },
      terminalTime: nowSeconds(),
    });
    expect(reused.decision).toEqual({ outcome: 'declined', reason: 'DUPLICATE_RECEIPT' });
    expect(recordsOf(first.receiptNo)).toEqual([expect.objectContaining({ kind: 'sale' })]);
    const alert = agent.alerts.list().find((a) => a.code === 'CANTEEN_RECEIPT_REUSED');
    expect(alert?.message).toContain(`Till ${TILL} sent receipt ${first.receiptNo} again`);
    // What the till would learn asking about that receipt: the first sale, as the ledger holds it.
    await expect(
      agent.submit({ type: 'SaleStatusAsked', terminalId: TILL, receiptNo: first.receiptNo }),
    ).resolves.toEqual({ state: 'approved', kind: 'sale', amountFen: 700 });
  });

  it('records a sale declined live and then uploaded offline once, with the live decline as a flag', async () => {
    const limits = (config.scenarios.canteen as { limits: { perTransactionLimitFen: number } }).limits;
    const amountFen = limits.perTransactionLimitFen + 1;
    const live = await till.swipe(CARD, amountFen);
    expect(live.decision).toEqual({ outcome: 'declined', reason: 'INSUFFICIENT_LIMIT' });
    // The till lost the answer, approved the sale alone and uploads it with the same receipt.
    const record = {
      kind: 'sale' as const,
      receiptNo: live.receiptNo,
      amountFen,
      credential: { kind: 'card' as const, uidHex: CARD },
      terminalTime: nowSeconds(),
    };
    const [result] = await till.uploadOffline([record]);
    expect(result?.receiptNo).toBe(live.receiptNo);
    // Recorded, with the live decline as the till's finding (canteen-pos.md RECORD_RESULT 1).
    expect(result).toMatchObject({
      receiptNo: live.receiptNo,
      result: 1,
      decision: { outcome: 'declined', reason: 'INSUFFICIENT_LIMIT' },
    });
    const [again] = await till.uploadOffline([record]);
    expect(again).toEqual(result);
    expect(recordsOf(live.receiptNo)).toEqual([
      {
        kind: 'offline-sale',
        payload: expect.objectContaining({
          flags: expect.arrayContaining(['OFFLINE_AFTER_DECLINE', 'OFFLINE_OVER_LIMIT']),
          declinedOnline: 'INSUFFICIENT_LIMIT',
        }),
      },
    ]);
    expect(agent.alerts.list().map((a) => a.code)).toContain('CANTEEN_OFFLINE_RISK');
  });

  it('records a blacklisted card in an upload and tells the till per record (RESULT 1 BLACKLISTED)', async () => {
    await waitFor(
      async () => (await agent.submit({ type: 'BlacklistVersionAsked', terminalId: TILL })).version >= 1,
      'the agent to apply the bank blacklist',
      20_000,
    );
    const receiptNo = till.nextReceiptNo + 100;
    const [result] = await till.uploadOffline([
      {
        kind: 'sale',
        receiptNo,
        amountFen: 600,
        credential: { kind: 'card', uidHex: STOLEN_CARD },
        terminalTime: nowSeconds() - 600,
      },
    ]);
    // Recorded (the diner has eaten), and the till learns to stop approving that card offline.
    expect(result).toMatchObject({
      receiptNo,
      result: 1,
      decision: { outcome: 'declined', reason: 'BLACKLISTED' },
    });
    expect(recordsOf(receiptNo)).toEqual([
      { kind: 'offline-sale', payload: expect.objectContaining({ flags: ['OFFLINE_BLACKLISTED'] }) },
    ]);
  });

  it('declines a stale copy of a sale STALE_REQUEST, records nothing, and takes the same receipt fresh', async () => {
    const receiptNo = till.nextReceiptNo;
    // A copy that sat in a line buffer: its terminal time is two minutes old (window 30 s).
    const stale = await till.sell({
      amountFen: 450,
      credential: { kind: 'card', uidHex: CARD },
      terminalTime: nowSeconds() - 120,
    });
    expect(stale).toMatchObject({ receiptNo, decision: { outcome: 'declined', reason: 'STALE_REQUEST' } });
    expect(recordsOf(receiptNo)).toEqual([]);
    // The till asks again (same receipt, same content, fresh time): not poisoned by the stale copy.
    const fresh = await till.retry(receiptNo);
    expect(fresh).toMatchObject({ receiptNo, decision: { outcome: 'approved' } });
    expect(recordsOf(receiptNo)).toEqual([expect.objectContaining({ kind: 'sale' })]);
  });

  it('a sale charged while the till heard no answer is found by SALE_STATUS after the box restarts', async () => {
    const receiptNo = till.nextReceiptNo;
    // Committed by the box; every answer lost on the way, as when the box goes down right after its
    // commit: the till shows "no connection" and keeps the receipt as unanswered.
    till.terminal.faults.dropAnswers = 3;
    await expect(till.swipe(CARD, 880)).rejects.toThrow();
    expect(till.unanswered.has(receiptNo)).toBe(true);
    expect(recordsOf(receiptNo)).toEqual([expect.objectContaining({ kind: 'sale' })]);
    // The box restarts: a new agent on the same ledger, a new session for the till.
    await agent.stop();
    agent = await startAgent({ config, secrets, logger: silentLogger });
    await waitFor(
      () => agent.status().terminals.some((t) => t.id === TILL && t.up),
      'the till to come up again',
      15_000,
    );
    // The recovery procedure: ask, never guess.
    const status = await till.recover(receiptNo);
    expect(status).toMatchObject({ receiptNo, state: 'approved', recordKind: 'sale', amountFen: 880 });
    expect(till.unanswered.has(receiptNo)).toBe(false);
    // Unknown receipts are unknown, not guessed.
    expect((await till.saleStatus(receiptNo + 5000)).state).toBe('unknown');
    expect(recordsOf(receiptNo)).toHaveLength(1);
  });
});
