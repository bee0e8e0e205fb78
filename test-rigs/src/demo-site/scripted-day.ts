import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BLACKLIST_SOURCE_FORMAT, sealBlacklistSource } from '@sceneway/cloud-sync';
import { maskTail, sleep } from '@sceneway/core';
import { issueQrToken } from '@sceneway/gateway-agent';
import type { SimTill } from '../sim-canteen-pos/index.ts';

/**
 * A short scripted lunch: diners swipe cards at every till, some pay by QR, one card is on the bank's
 * blacklist, one QR code is shown twice, one diner goes over the per-transaction limit. Each line it
 * prints is what the till's screen showed, so the demo shows the offline rules at work.
 */
export interface ScriptedDayOptions {
  tills: Array<{ id: string; till: SimTill }>;
  bankPrivateKeyHex: string;
  /** The demo box's site id: the audience the app's QR token names (canteen-qr-token.md). */
  siteId: string;
  /** The box's blacklist version: the agent fetches the bank's list itself (GET /v1/blacklist). */
  blacklistVersion(): Promise<number>;
  log(line: string): void;
  signal: AbortSignal;
  paceMs?: number;
  /** The QR token diners show (default: one issued here for DEMO_QR_ACCOUNT); a test passes its own. */
  qrToken?: string;
}

/** The account the demo's QR token pays from. */
export const DEMO_QR_ACCOUNT = 'student-2026-0042';

/** The diners' card UIDs (the log-scan test looks for each in every log line). */
export const DEMO_CARDS = [
  '04A1B2C3D4',
  '04A1B2C3D5',
  '04A1B2C3D6',
  '04A1B2C3D7',
  '04A1B2C3D8',
  '04A1B2C3D9',
];
/** The card on the demo bank's blacklist (publishDemoBlacklist). */
export const STOLEN_CARD = '04DEADBEEF';
const DISHES = [800, 1200, 1500, 650, 2200, 1000];

/** The till's screen line names the card as every log does: the last 4 hex digits only. */
const masked = maskTail;

/**
 * The demo bank's blacklist: one stolen card, sealed and signed with the bank key, in the directory the
 * bank serves at GET /v1/blacklist (as `sceneway-bank blacklist sign` would write it); the bank signs
 * each box its own keyed digests of it (D27). Published once.
 */
export function publishDemoBlacklist(dir: string, bankPrivateKeyHex: string): void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'blacklist-v00000001.json');
  // A demo data folder from before D27 holds an unkeyed v1 list there: replaced by its sealed source.
  if (existsSync(path) && readFileSync(path, 'utf8').includes(BLACKLIST_SOURCE_FORMAT)) return;
  const signed = sealBlacklistSource(
    { kind: 'full', version: 1, issuedAt: new Date().toISOString() },
    { add: [`card:${STOLEN_CARD}`], remove: [] },
    bankPrivateKeyHex,
  );
  writeFileSync(path, `${JSON.stringify(signed, null, 2)}\n`);
}

/** The QR code the demo's diners show: one token, offline, good for an hour. */
export function demoQrToken(bankPrivateKeyHex: string, siteId: string): string {
  return issueQrToken(
    {
      v: 2,
      aud: `site:${siteId}`,
      tokenId: randomBytes(16).toString('base64url'),
      account: DEMO_QR_ACCOUNT,
      maxAmountFen: 3000,
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    },
    bankPrivateKeyHex,
  );
}

export async function playScriptedDay(options: ScriptedDayOptions): Promise<void> {
  const { tills, log, signal } = options;
  const pace = options.paceMs ?? 700;
  // The agent's blacklist poller asks the bank soon after start; wait for it before the stolen card.
  let version = await options.blacklistVersion();
  for (let waited = 0; version < 1 && waited < 10_000; waited += 100) {
    if (!(await sleep(100, signal))) return;
    version = await options.blacklistVersion();
  }
  log(
    version >= 1
      ? `bank blacklist v${version} fetched from the bank, signature verified`
      : 'bank blacklist not fetched yet (is the bank up?)',
  );
  let step = 0;
  const qr = options.qrToken ?? demoQrToken(options.bankPrivateKeyHex, options.siteId);
  while (!signal.aborted) {
    const { id, till } = tills[step % tills.length]!;
    const card = DEMO_CARDS[step % DEMO_CARDS.length]!;
    const amount = DISHES[step % DISHES.length]!;
    try {
      let line: string;
      if (step % 25 === 7) {
        const r = await till.swipe(STOLEN_CARD, amount);
        line = `${id}: card ${masked(STOLEN_CARD)} ${amount} fen -> ${r.decision.outcome} ${r.decision.outcome === 'declined' ? r.decision.reason : ''}`;
      } else if (step % 25 === 11 || step % 25 === 12) {
        const r = await till.qrPay(qr, 1500);
        line = `${id}: QR 1500 fen -> ${r.decision.outcome} ${r.decision.outcome === 'declined' ? r.decision.reason : ''}`;
      } else if (step % 25 === 19) {
        const r = await till.swipe(card, 60_000);
        line = `${id}: card ${masked(card)} 60000 fen -> ${r.decision.outcome} ${r.decision.outcome === 'declined' ? r.decision.reason : ''}`;
      } else {
        const r = await till.swipe(card, amount);
        line = `${id}: card ${masked(card)} ${amount} fen -> ${r.decision.outcome}${r.decision.outcome === 'declined' ? ` ${r.decision.reason}` : ''}`;
      }
      log(line.trimEnd());
    } catch (err) {
      if (!signal.aborted) log(`${id}: no answer (${(err as Error).message})`);
    }
    step++;
    await sleep(pace, signal);
  }
}
