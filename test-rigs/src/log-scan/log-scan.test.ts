import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type RunningAgent, startAgent } from '@sceneway/gateway-agent';
import { waitFor } from '@sceneway/gateway-agent/testing';
import { connect } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEMO_PASSPHRASE,
  demoBoxConfig,
  enrolBox,
  ensureDemoBoxKeys,
  provisionDemoTills,
  startDemoBank,
} from '../demo-site/demo-parts.ts';
import {
  DEMO_CARDS,
  DEMO_QR_ACCOUNT,
  demoQrToken,
  playScriptedDay,
  STOLEN_CARD,
} from '../demo-site/scripted-day.ts';
import { openPtyPair, type PtyPair } from '../pty/pty-pair.ts';
import { type CanteenPosSim, startCanteenPosSim } from '../sim-canteen-pos/index.ts';

/**
 * Issue #11 item 4: no card UID, QR token or account, key or passphrase in any log line. The real
 * bank, agent and till simulators play the demo's scripted lunch (cards, the blacklisted card, a QR
 * code shown twice, a sale over the limit, batches acknowledged) with every logger at `trace` writing
 * to a captured stream; then every line is scanned. A per-run reporter over the whole suite would
 * need every test to log through one sink; this run covers every path a sale takes, at every level.
 * The agent's fleet telemetry (issue #14) goes to the machine's Mosquitto during the same day, and every
 * payload it published is scanned with the log lines.
 */
const MQTT_URL = process.env.SCENEWAY_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const TILLS = ['scan-till-1', 'scan-till-2'];
const STEPS = 30; // covers each branch of the scripted day (steps 7, 11, 12 and 19 of every 25)

function capture(lines: string[]): Writable {
  return new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
}

let dataDir = '';
let agent: RunningAgent | undefined;
let sims: CanteenPosSim[] = [];
const pairs: PtyPair[] = [];
let bankClose: (() => Promise<void>) | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
  for (const sim of sims) await sim.close();
  await agent?.stop();
  for (const pair of pairs) await pair.close();
  await bankClose?.();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('log scan: a scripted day leaves no personal data or secret in any log line', () => {
  it('scans every agent and bank line written at trace level', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sceneway-log-scan-'));
    const lines: string[] = [];
    const { bank, privateKeyHex: bankKey } = await startDemoBank(dataDir, 0, {
      level: 'trace',
      destination: capture(lines),
    });
    bankClose = () => bank.close();
    const secrets = ensureDemoBoxKeys(dataDir);
    for (const id of TILLS) {
      const dir = join(dataDir, 'pty', id);
      mkdirSync(dir, { recursive: true });
      pairs.push(await openPtyPair(dir));
    }
    const config = demoBoxConfig({
      dataDir,
      ports: { admin: 0, broker: 0, bank: 0 },
      bankUrl: bank.url,
      bankPrivateKeyHex: bankKey,
      canteenLines: pairs.map((pair, i) => ({ terminalId: TILLS[i] ?? 'till', path: pair.a })),
    });
    const topicPrefix = `sceneway-test/log-scan-${randomBytes(5).toString('hex')}`;
    config.telemetry = { url: MQTT_URL, intervalSeconds: 1, topicPrefix };
    const fleet = await connect(MQTT_URL, { reconnectPeriod: 0 });
    await new Promise<void>((resolve) => fleet.once('connect', () => resolve()));
    const payloads: Array<{ topic: string; payload: Record<string, unknown> }> = [];
    fleet.on('message', (topic, payload) => {
      if (payload.length === 0) return;
      lines.push(`telemetry ${topic} ${payload.toString('utf8')}`);
      payloads.push({ topic, payload: JSON.parse(payload.toString('utf8')) });
    });
    await fleet.subscribeAsync(`${topicPrefix}/#`, { qos: 1 });
    cleanups.push(async () => {
      await fleet.publishAsync(`${topicPrefix}/${config.box.id}/status`, '', { retain: true, qos: 1 });
      await fleet.endAsync();
    });
    await enrolBox(bank, config, secrets, bankKey);
    const tillKeys = provisionDemoTills(config, secrets);
    let acked = 0;
    agent = await startAgent({
      config,
      secrets,
      logger: createLogger({ level: 'trace', destination: capture(lines) }),
      onBatchAcked: () => {
        acked++;
      },
    });
    sims = await Promise.all(
      pairs.map((pair, i) => {
        const key = tillKeys.get(TILLS[i] ?? 'till');
        return startCanteenPosSim({ path: pair.b, baudRate: 115200, ...(key ? { key } : {}) });
      }),
    );
    const running = agent;
    await waitFor(
      () => TILLS.every((id) => running.status().terminals.some((t) => t.id === id && t.up)),
      'the tills',
      15_000,
    );

    const qrToken = demoQrToken(bankKey, config.site.id);
    const screen: string[] = [];
    const day = new AbortController();
    const played = playScriptedDay({
      tills: sims.map((sim, i) => ({ id: TILLS[i] ?? 'till', till: sim.till() })),
      bankPrivateKeyHex: bankKey,
      siteId: config.site.id,
      blacklistVersion: async () =>
        (await running.submit({ type: 'BlacklistVersionAsked', terminalId: 'scan' })).version,
      log: (line) => {
        screen.push(line);
        if (screen.length > STEPS) day.abort();
      },
      signal: day.signal,
      paceMs: 10,
      qrToken,
    });
    await played;
    await waitFor(() => acked > 0, 'a batch acknowledged by the bank', 20_000);
    // A heartbeat sent after the day's sales were synced: the figures a fleet sees of this very day.
    await waitFor(
      () =>
        payloads.some(({ payload }) => {
          const health = payload.health as
            | { ledger: { lastSyncedSeq: number }; terminals: Array<{ up: boolean }> }
            | undefined;
          return (
            health !== undefined && health.ledger.lastSyncedSeq > 0 && health.terminals.every((t) => t.up)
          );
        }),
      'a heartbeat of the synced day with every till up',
    );
    // The day did what it says: the blacklisted card and the reused QR code were declined.
    expect(screen.some((l) => l.includes('BLACKLISTED'))).toBe(true);
    expect(screen.some((l) => l.includes('QR_REUSED'))).toBe(true);
    for (const sim of sims) await sim.close();
    sims = [];
    await agent.stop();
    agent = undefined;
    await bank.close();
    bankClose = undefined;

    // `QR1.<claims, base64url>.<signature>`: the claims name the token id and the account.
    const claims = JSON.parse(Buffer.from(qrToken.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      tokenId: string;
    };
    const forbidden: Array<[string, RegExp]> = [
      ...[...DEMO_CARDS, STOLEN_CARD].flatMap(
        (uid): Array<[string, RegExp]> => [
          [`card UID ${uid}`, new RegExp(uid, 'i')],
          // More than the last 4 digits shown: the head of the UID next to a mask (`04A1**C3D4`).
          [`head of card UID ${uid}`, new RegExp(`${uid.slice(0, 4)}\\*|\\b${uid.slice(0, 6)}`)],
        ],
      ),
      ['QR token', new RegExp(qrToken.slice(-24).replace(/[-_]/g, '.'))],
      ['QR token id', new RegExp(claims.tokenId.replace(/[-_]/g, '.'))],
      ['QR account', new RegExp(DEMO_QR_ACCOUNT)],
      ['box private key', new RegExp(secrets.privateKeyHex, 'i')],
      ['box data key', new RegExp(secrets.dataKey.toString('hex'), 'i')],
      ['box data key (base64)', new RegExp(secrets.dataKey.toString('base64').replace(/[+/=]/g, '.'))],
      ['bank private key', new RegExp(bankKey, 'i')],
      ['passphrase', new RegExp(DEMO_PASSPHRASE)],
    ];
    // The capture worked: the agent and the bank wrote trace-level lines of a whole day.
    expect(lines.length).toBeGreaterThan(STEPS);
    expect(lines.some((l) => l.includes('"name":"sceneway-bank"'))).toBe(true);
    expect(payloads.some((p) => p.topic.endsWith('/status') && p.payload.state === 'offline')).toBe(true);
    const hits = lines.flatMap((line) =>
      forbidden.filter(([, pattern]) => pattern.test(line)).map(([what]) => `${what}: ${line.slice(0, 300)}`),
    );
    expect(hits).toEqual([]);
  }, 90_000);
});
