import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSm2KeyPair } from '@sceneway/cloud-sync';
import { type RunningAgent, silentLogger, startAgent } from '@sceneway/gateway-agent';
import { connectClient, freePort, waitFor } from '@sceneway/gateway-agent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoBoxConfig, ensureDemoBoxKeys, provisionDemoTills } from '../demo-site/demo-parts.ts';
import { openPtyPair, type PtyPair } from '../pty/pty-pair.ts';
import { type CanteenPosSim, startCanteenPosSim } from '../sim-canteen-pos/index.ts';

/**
 * The agent's counters through its own /metrics, after real traffic: a simulated till on a socat pty
 * pays (ledger appends), the bank's address answers nobody (sync failures), and an mqtt.js client
 * logs in to the embedded broker with a username nobody has (auth failures). A counter that nothing
 * increments in production reads 0 here, whatever a unit test of the metrics module says.
 */
const TILL = 'metrics-till-1';
const INTRUDER = 'intruder-user-7';

let dir: string;
let pair: PtyPair;
let agent: RunningAgent;
let sim: CanteenPosSim;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sceneway-agent-metrics-'));
  const ptyDir = join(dir, 'pty');
  mkdirSync(ptyDir);
  pair = await openPtyPair(ptyDir);
  // A port that was free a moment ago: connections to it are refused, as with a bank that is down.
  const deadBank = `http://127.0.0.1:${await freePort()}`;
  const config = demoBoxConfig({
    dataDir: dir,
    ports: { admin: 0, broker: 0, bank: 0 },
    bankUrl: deadBank,
    bankPrivateKeyHex: generateSm2KeyPair().privateKeyHex,
    canteenLines: [{ terminalId: TILL, path: pair.a }],
  });
  const secrets = ensureDemoBoxKeys(dir);
  const tillKey = provisionDemoTills(config, secrets).get(TILL);
  agent = await startAgent({ config, secrets, logger: silentLogger });
  sim = await startCanteenPosSim({ path: pair.b, baudRate: 115200, ...(tillKey ? { key: tillKey } : {}) });
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
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const scrape = async () => (await fetch(`${agent.adminUrl}/metrics`)).text();

/** The value of one sample line, or null when the series is absent. */
function sample(text: string, series: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

describe("the agent's /metrics after real traffic", () => {
  it('counts appended records, failed uploads and refused broker logins, in a scrape promtool accepts', async () => {
    const till = sim.till();
    for (const amount of [800, 1200])
      expect((await till.swipe('04A1B2C3D4', amount)).decision.outcome).toBe('approved');

    const refused = await connectClient(`mqtt://127.0.0.1:${agent.broker.tcpAddress.port}`, {
      username: INTRUDER,
      password: 'guess',
      protocolVersion: 4,
    }).then(
      () => null,
      (err: Error & { code?: number }) => err,
    );
    // This box has no MQTT identity: CONNACK 0x05 at once, without a scrypt (D25).
    expect(refused?.code).toBe(5);

    // The outbox holds two sales, so the uploader tries the dead bank; wait for its first failure.
    await waitFor(() => agent.uploader.status().consecutiveFailures > 0, 'a failed upload', 20_000);

    const text = await scrape();
    expect(sample(text, 'sceneway_ledger_records_appended_total{kind="sale"}')).toBe(2);
    expect(sample(text, 'sceneway_sync_failures_total{code="SYNC_BANK_UNREACHABLE"}')).toBeGreaterThanOrEqual(
      1,
    );
    expect(sample(text, 'sceneway_broker_auth_failures_total{reason="no_terminals"}')).toBe(1);
    expect(text).toContain('sceneway_broker_locked_out{scope="address"} 0');
    expect(sample(text, 'sceneway_sales_decided_total{outcome="approved",reason=""}')).toBe(2);
    // A label names the reason, never who tried (a username is something the client chose).
    expect(text).not.toContain(INTRUDER);

    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.error, 'promtool is installed (.ci/run installs prometheus)').toBeUndefined();
    expect(`${check.stdout}${check.stderr}`.trim()).toBe('');
    expect(check.status).toBe(0);
  });
});
