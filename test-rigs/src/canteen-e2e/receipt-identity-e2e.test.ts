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
import { openPtyPair, type PtyPair } from '../pty/pty-pair.ts';
import { type CanteenPosSim, type SimTill, startCanteenPosSim } from '../sim-canteen-pos/index.ts';

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
  const secrets = ensureDemoBoxKeys(dataDir);
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
  const tillKey = provisionDemoTills(config, secrets).get(TILL);
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
});
