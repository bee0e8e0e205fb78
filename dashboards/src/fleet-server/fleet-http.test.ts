import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fleetTokenFrom } from './api-token.ts';
import { startFleetServer } from './fleet-server.ts';
import { SqlFleetStore } from './sql-fleet-store.ts';
import { sqliteRunner } from './sql-runners.ts';
import { api, quietLogger, TEST_MQTT_URL, TEST_TOKEN, uniquePrefix } from './test-support/fleet-test-kit.ts';
import { createWebhook } from './webhook.ts';

const dir = mkdtempSync(join(tmpdir(), 'sceneway-fleet-http-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;

describe('fleet API token', () => {
  it('comes from a 0600 file; a file others can read is refused, naming the fix', () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${TEST_TOKEN}\n`, { mode: 0o600 });
    expect(fleetTokenFrom(file, {})).toBe(TEST_TOKEN);
    chmodSync(file, 0o644);
    expect(() => fleetTokenFrom(file, {})).toThrow(/chmod 600/);
    expect(() => fleetTokenFrom(undefined, {})).toThrow(/--token-file/);
    expect(() => fleetTokenFrom(undefined, { SCENEWAY_FLEET_TOKEN: 'short' })).toThrow(/shorter than 16/);
    expect(fleetTokenFrom(undefined, { SCENEWAY_FLEET_TOKEN: TEST_TOKEN })).toBe(TEST_TOKEN);
  });
});

describe('fleet /metrics', () => {
  it.skipIf(!hasPromtool)('is clean for promtool check metrics', async () => {
    const fleet = await startFleetServer({
      store: new SqlFleetStore(sqliteRunner(join(dir, 'metrics.db'))),
      mqtt: { url: TEST_MQTT_URL, topicPrefix: uniquePrefix('metrics'), shareGroup: 'metrics' },
      http: { host: '127.0.0.1', port: 0 },
      token: TEST_TOKEN,
      logger: quietLogger,
    });
    try {
      const { status, body } = await api(fleet.url, '/metrics');
      expect(status).toBe(200);
      expect(body).toContain('# TYPE sceneway_fleet_boxes gauge');
      const check = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
      expect(`${check.stdout}${check.stderr}`).toBe('');
      expect(check.status).toBe(0);
    } finally {
      await fleet.close();
    }
  });
});

/** A receiver that answers each request as the test scripts it: a status, or never (a hung peer). */
async function scriptedReceiver(script: Array<number | 'hang'>) {
  let calls = 0;
  const server = http.createServer((req, res) => {
    const step = script[Math.min(calls++, script.length - 1)];
    req.resume();
    if (step === 'hang') return;
    res.writeHead(step ?? 200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    calls: () => calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const notice = {
  event: 'raised' as const,
  alert: { id: 'a1', boxId: 'b', code: 'FLEET_DISK_LOW', message: 'm', raisedAt: 1, resolvedAt: null },
};

describe('alert webhook', () => {
  it('retries a failing receiver and stops at the first 2xx', async () => {
    const receiver = await scriptedReceiver([500, 503, 204]);
    const outcomes: string[] = [];
    const hook = createWebhook({
      url: receiver.url,
      attempts: 5,
      timeoutMs: 2000,
      backoff: { initialDelayMs: 5, maxDelayMs: 20 },
      maxQueued: 10,
      onOutcome: (_e, o) => outcomes.push(o),
    });
    hook.notify(notice);
    await hook.idle();
    expect(receiver.calls()).toBe(3);
    expect(outcomes).toEqual(['delivered']);
    await hook.close();
    await receiver.close();
  });

  it('gives up after the bounded attempts, each cut by the timeout', async () => {
    const receiver = await scriptedReceiver(['hang']);
    const outcomes: string[] = [];
    const hook = createWebhook({
      url: receiver.url,
      attempts: 3,
      timeoutMs: 100,
      backoff: { initialDelayMs: 5, maxDelayMs: 20 },
      maxQueued: 10,
      onOutcome: (_e, o) => outcomes.push(o),
    });
    hook.notify(notice);
    await hook.idle();
    expect(receiver.calls()).toBe(3);
    expect(outcomes).toEqual(['failed']);
    await hook.close();
    await receiver.close();
  });
});

describe('sceneway-fleet', () => {
  it('--help describes the command and its store, token and webhook options', () => {
    const bin = new URL('../../bin/sceneway-fleet.js', import.meta.url);
    const run = spawnSync(process.execPath, [bin.pathname, '--help'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    for (const flag of [
      '--share-group',
      '--pg <url>',
      '--token-file',
      '--webhook',
      '--rpo',
      '--ui-users <file>',
    ])
      expect(run.stdout).toContain(flag);
  });
});
