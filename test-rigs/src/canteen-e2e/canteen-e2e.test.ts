import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BankServer } from '@sceneway/cloud-sync/bank';
import type { BoxSecrets, FullBoxConfig } from '@sceneway/gateway-agent';
import {
  issueQrToken,
  type RunningAgent,
  silentLogger,
  startAgent,
  verifyLedgerFile,
} from '@sceneway/gateway-agent';
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
 * The canteen vertical slice end to end, every part real: a simulated till on a socat pty pair (real
 * serialport both ends) → canteen-pos driver → canteen rules → ledger → uploader → reference bank.
 */
const TILL = 'e2e-till-1';
const CARD = '04A1B2C3D4';
const STOLEN = STOLEN_CARD; // on the blacklist the demo bank serves

let dataDir: string;
let bank: BankServer;
let bankKey: string;
let secrets: BoxSecrets;
let pair: PtyPair;
let ptyDir: string;
let config: FullBoxConfig;
let agent: RunningAgent | undefined;
let sim: CanteenPosSim | undefined;
let till: SimTill;
let approved = 0;
let nextReceiptNo = 1;
let tillKey: TillKey | undefined;
const saleAnswers = () => till.terminal.received.filter((r) => r.message.type === 'sale-result').length;

async function startBox(): Promise<void> {
  agent = await startAgent({ config, secrets, logger: silentLogger });
  // A real till keeps its receipt counter across a box restart.
  sim = await startCanteenPosSim({
    path: pair.b,
    baudRate: 115200,
    firstReceiptNo: nextReceiptNo,
    ...(tillKey ? { key: tillKey } : {}),
  });
  till = sim.till();
  await waitFor(
    () => agent!.status().terminals.some((t) => t.id === TILL && t.up),
    'the till to come up',
    15_000,
  );
}

async function stopBox(): Promise<void> {
  if (sim) nextReceiptNo = sim.till().nextReceiptNo;
  await sim?.close();
  await agent?.stop();
  sim = undefined;
  agent = undefined;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sceneway-canteen-e2e-'));
  ({ bank, privateKeyHex: bankKey } = await startDemoBank(dataDir, 0));
  secrets = ensureDemoBoxKeys(dataDir);
  ptyDir = join(dataDir, 'pty');
  mkdirSync(ptyDir);
  pair = await openPtyPair(ptyDir);
  config = demoBoxConfig({
    dataDir,
    ports: { admin: 0, broker: 0, bank: 0 },
    bankUrl: bank.url,
    bankPrivateKeyHex: bankKey,
    canteenLines: [{ terminalId: TILL, path: pair.a }],
  });
  await enrolBox(bank, config, secrets, bankKey);
  tillKey = provisionDemoTills(config, secrets).get(TILL);
  await startBox();
}, 60_000);

afterAll(async () => {
  await stopBox();
  await pair?.close();
  await bank?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('canteen end to end over real ptys', () => {
  it("runs on the holder key of the bank's enrolment answer (D27)", () => {
    expect(agent!.alerts.list().map((a) => a.code)).not.toContain('CANTEEN_HOLDER_KEY_MISSING');
  });

  it('approves a swipe only once the sale is durable in the ledger', async () => {
    const result = await till.swipe(CARD, 1200);
    expect(result.decision).toEqual({ outcome: 'approved' });
    approved++;
    // The answer came after the commit: the record is there the moment the till has its answer.
    const record = agent!.ledger.findByIdempotencyKey(`sale:${TILL}:${result.receiptNo}`);
    expect(record).toMatchObject({ kind: 'sale', amountFen: 1200, terminalId: TILL });
    expect(JSON.stringify(record)).not.toContain(CARD);
  });

  it('answers a retransmitted sale frame again but charges it once', async () => {
    const head = agent!.ledger.stats().headSeq;
    const answersBefore = saleAnswers();
    till.terminal.faults.duplicateNextRequest = true;
    const result = await till.swipe(CARD, 800);
    expect(result.decision.outcome).toBe('approved');
    approved++;
    // Both copies are answered, the same way: wait for the second answer, then compare.
    await expect.poll(saleAnswers, { timeout: 10_000 }).toBe(answersBefore + 2);
    const [first, second] = till.terminal.received.filter((r) => r.message.type === 'sale-result').slice(-2);
    expect(second).toEqual(first);
    expect(agent!.ledger.stats().headSeq).toBe(head + 1);
  });

  it('declines over the per-transaction limit and a blacklisted card, for the right reasons', async () => {
    const limits = (config.scenarios.canteen as { limits: { perTransactionLimitFen: number } }).limits;
    const over = await till.swipe(CARD, limits.perTransactionLimitFen + 1);
    expect(over.decision).toMatchObject({ outcome: 'declined', reason: 'INSUFFICIENT_LIMIT' });
    // The demo bank publishes a signed list with STOLEN on it; the agent's poller fetches and verifies it.
    // Wait for that state (not for time): a loaded machine may take a while to poll.
    await waitFor(
      async () => (await agent!.submit({ type: 'BlacklistVersionAsked', terminalId: TILL })).version >= 1,
      'the agent to apply the bank blacklist',
      20_000,
    );
    expect(await till.queryBlacklistVersion()).toBe(1); // the till learns the version the box applies
    const stolen = await till.swipe(STOLEN, 500);
    expect(stolen.decision).toMatchObject({ outcome: 'declined', reason: 'BLACKLISTED' });
    expect(stolen.displayText.length).toBeGreaterThan(0);
  });

  it('refuses a replayed QR token, also after the agent restarts', async () => {
    const token = issueQrToken(
      {
        v: 2,
        aud: `site:${config.site.id}`,
        tokenId: randomBytes(16).toString('base64url'),
        account: 'student-42',
        maxAmountFen: 3000,
        expiresAt: Math.floor(Date.now() / 1000) + 600,
      },
      bankKey,
    );
    expect((await till.qrPay(token, 1500)).decision.outcome).toBe('approved');
    approved++;
    expect((await till.qrPay(token, 1500)).decision).toMatchObject({
      outcome: 'declined',
      reason: 'QR_REUSED',
    });
    await stopBox();
    await startBox();
    expect((await till.qrPay(token, 1500)).decision).toMatchObject({
      outcome: 'declined',
      reason: 'QR_REUSED',
    });
  });

  it('recovers from unplug and replug without a lost or doubled sale', async () => {
    await pair.close(); // the cable is pulled: both ptys vanish
    await waitFor(
      () => agent!.status().terminals.some((t) => t.id === TILL && !t.up),
      'the till to be reported down',
      15_000,
    );
    pair = await openPtyPair(ptyDir); // plugged back: same link names
    await sim!.reopen(10_000);
    await waitFor(
      () => agent!.status().terminals.some((t) => t.id === TILL && t.up),
      'the till to come back',
      20_000,
    );
    const result = await till.swipe(CARD, 650);
    expect(result.decision.outcome).toBe('approved');
    approved++;
  }, 60_000);

  it('delivers every approved sale to the bank exactly once, and both chains agree', async () => {
    await waitFor(() => agent!.ledger.stats().unsyncedCount === 0, 'the outbox to drain', 30_000);
    const stats = agent!.ledger.stats();
    const sales = agent!.ledger.db.prepare("SELECT count(*) AS n FROM records WHERE kind = 'sale'").get() as {
      n: number;
    };
    expect(sales.n).toBe(approved);
    expect(await bank.store.recordCount(config.box.id)).toBe(stats.headSeq);
    expect(await bank.store.getBox(config.box.id)).toMatchObject({
      headSeq: stats.headSeq,
      headHash: stats.headHash,
    });
    expect(verifyLedgerFile(config.ledger.path).ok).toBe(true);
  });
});
