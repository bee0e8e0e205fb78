import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { TelemetryHealth, TelemetryHeartbeat } from '@sceneway/gateway-agent';
import pino from 'pino';
import type { AlertNotice } from '../webhook.ts';

/** The machine's PostgreSQL (trust, database `test`) unless SCENEWAY_TEST_PG_URL names another. */
export const TEST_PG_URL = process.env.SCENEWAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The machine's Mosquitto unless SCENEWAY_TEST_MQTT_URL names another. */
export const TEST_MQTT_URL = process.env.SCENEWAY_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

export function healthOf(overrides: Partial<TelemetryHealth> = {}): TelemetryHealth {
  return {
    uptimeSeconds: 10,
    ledger: { depth: 0, oldestUnsyncedAgeSeconds: null, headSeq: 0, lastSyncedSeq: 0 },
    sync: { state: 'idle', consecutiveFailures: 0, lastErrorCode: null, stoppedByRejectedBatch: false },
    terminals: [{ id: 'till-1', driver: 'canteen-pos', up: true, firmware: 'POS-2.4.1' }],
    diskFreeMb: 10_000,
    clockDriftMs: 0,
    cpu: { load1: 0.5, cores: 2, processPercent: 1 },
    memory: { rssMb: 80, systemFreeMb: 1000, systemTotalMb: 4000 },
    ...overrides,
  };
}

export function heartbeatOf(
  boxId: string,
  at: { session: number; seq: number },
  health: TelemetryHealth = healthOf(),
): TelemetryHeartbeat {
  return {
    v: 1,
    boxId,
    siteId: 'site-a',
    session: at.session,
    seq: at.seq,
    sentAt: at.session + at.seq,
    agentVersion: '0.1.0',
    health,
    offline: null,
  };
}

export const quietLogger = pino({ level: 'silent' });
export const TEST_TOKEN = 'fleet-test-token-0123456789abcdef';

export const uniquePrefix = (what: string) => `sceneway-test/fleet-${what}-${randomBytes(5).toString('hex')}`;

/** An alert receiver on loopback that records every POST and lets a test wait for one. */
export async function startWebhookReceiver() {
  const notices: AlertNotice[] = [];
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      notices.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertNotice);
      res.writeHead(204).end();
      for (const w of waiters) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    notices,
    next(event: 'raised' | 'resolved', code: string, boxId: string): Promise<AlertNotice> {
      return new Promise((resolve, reject) => {
        const timeout = setTimeout(
          () => reject(new Error(`no webhook ${event} ${code} for ${boxId}`)),
          30_000,
        );
        const check = () => {
          const found = notices.find(
            (n) => n.event === event && n.alert.code === code && n.alert.boxId === boxId,
          );
          if (!found) return;
          clearTimeout(timeout);
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Starts telemetry-box-child.ts; resolves once its first heartbeat is out (it is connected). */
export async function spawnTelemetryBox(
  url: string,
  prefix: string,
  boxId: string,
  /** The box's figures (default healthOf()) and site: a test gives each box its own terminals. */
  box: { health?: Partial<TelemetryHealth>; siteId?: string; intervalSeconds?: number } = {},
): Promise<ChildProcess> {
  const script = fileURLToPath(new URL('./telemetry-box-child.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, url, prefix, boxId, JSON.stringify(box)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`telemetry box exited (${code}) before connecting`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString('utf8').includes('heartbeat')) resolve();
    });
  });
  child.removeAllListeners('exit');
  return child;
}

export function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

export async function api(base: string, path: string, token: string | null = TEST_TOKEN) {
  const res = await fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : text };
}

/** Polls an observable condition (API state) until it holds; a hang fails with what was awaited. */
export async function waitFor(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Clears the retained statuses a test's boxes left on the shared broker. */
export async function clearRetainedStatus(url: string, prefix: string, boxIds: string[]): Promise<void> {
  const { connect } = await import('mqtt');
  const client = connect(url, { reconnectPeriod: 0 });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  for (const id of boxIds) await client.publishAsync(`${prefix}/${id}/status`, '', { retain: true, qos: 1 });
  await client.endAsync();
}
