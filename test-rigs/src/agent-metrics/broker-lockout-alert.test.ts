import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSm2KeyPair } from '@sceneway/cloud-sync';
import { hashPassword, type RunningAgent, silentLogger, startAgent } from '@sceneway/gateway-agent';
import { connectPacket, freePort, rawLogin, waitFor } from '@sceneway/gateway-agent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoBoxConfig, ensureDemoBoxKeys } from '../demo-site/demo-parts.ts';

/**
 * BROKER_LOGIN_LOCKOUT end to end (issue #11, D25): the real agent with an MQTT identity configured,
 * a stranger on another loopback address guessing its password, and what the operator sees: the alert
 * on /api/status and the lockout in /metrics. The storm is bounded (at most 200 logins, one at a time)
 * and stops as soon as both are seen.
 */
const IDENTITY = 'monitor-svc';
const ATTACKER = '127.0.0.7';
const INTRUDER_NAME = 'intruder-guess-user';

let dir: string;
let agent: RunningAgent;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sceneway-lockout-alert-'));
  const demo = demoBoxConfig({
    dataDir: dir,
    ports: { admin: 0, broker: 0, bank: 0 },
    bankUrl: `http://127.0.0.1:${await freePort()}`,
    bankPrivateKeyHex: generateSm2KeyPair().privateKeyHex,
    canteenLines: [],
  });
  const services = [
    { username: IDENTITY, passwordHash: hashPassword('lockout test pw 9'), publish: [], subscribe: [] },
  ];
  agent = await startAgent({
    config: { ...demo, broker: { ...demo.broker, services } },
    secrets: ensureDemoBoxKeys(dir),
    logger: silentLogger,
  });
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Status {
  alerts: Array<{ code: string; message: string }>;
}

const status = async () => (await (await fetch(`${agent.adminUrl}/api/status`)).json()) as Status;
const metrics = async () => (await fetch(`${agent.adminUrl}/metrics`)).text();
const sample = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
};

describe('a bad-login storm against the real agent', () => {
  it('locks the guessing address out and shows it as an alert and in the metrics', async () => {
    expect((await status()).alerts.map((a) => a.code)).not.toContain('BROKER_LOGIN_LOCKOUT');
    const { port } = agent.broker.tcpAddress;
    let stop = false;
    const codes: Array<number | null> = [];
    let alert: Status['alerts'][number] | undefined;
    const storm = (async () => {
      for (let i = 0; i < 200 && !stop; i++) {
        const username = i % 2 === 0 ? IDENTITY : `${INTRUDER_NAME}-${i}`;
        const packet = connectPacket({ clientId: `guess-${i}`, username, password: `wrong-${i}` });
        codes.push(await rawLogin(port, packet, ATTACKER));
      }
    })();
    try {
      // Polled while the storm goes on: a lockout runs out after seconds, and its alert with it.
      await waitFor(
        async () => {
          alert = (await status()).alerts.find((a) => a.code === 'BROKER_LOGIN_LOCKOUT');
          return alert !== undefined;
        },
        'the lockout alert on /api/status',
        30_000,
      );
      await waitFor(
        async () => (sample(await metrics(), 'sceneway_broker_locked_out{scope="address"}') ?? 0) >= 1,
        'an address locked out in the metrics',
        30_000,
      );
    } finally {
      stop = true;
      await storm;
    }
    // The storm may have stopped on the very attempt that locked the address out: one more login from
    // it is refused as locked out, before any password check (repeated only if the lockout ran out).
    await waitFor(
      async () => {
        const packet = connectPacket({
          clientId: 'guess-after',
          username: IDENTITY,
          password: 'wrong-after',
        });
        codes.push(await rawLogin(port, packet, ATTACKER));
        return (
          (sample(await metrics(), 'sceneway_broker_auth_failures_total{reason="locked_out"}') ?? 0) >= 1
        );
      },
      'a login refused as locked out',
      30_000,
    );
    const text = await metrics();
    expect(sample(text, 'sceneway_broker_login_lockouts_total{scope="address"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'sceneway_broker_auth_failures_total{reason="locked_out"}')).toBeGreaterThanOrEqual(
      1,
    );
    // Bad passwords were answered 4 (bad login) until the lockout, then 3 (try later): never accepted.
    expect(codes).toContain(4);
    expect(codes).toContain(3);
    expect(codes).not.toContain(0);
    // Who tried stays in the broker log, never in a metric label or the alert text.
    expect(alert?.message).toMatch(/locked out/);
    expect(alert?.message).not.toContain(INTRUDER_NAME);
    expect(text).not.toContain(INTRUDER_NAME);
    expect(text).not.toContain(ATTACKER);
  });
});
