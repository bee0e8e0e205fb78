import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BankServer } from '@sceneway/cloud-sync/bank';
import { type FleetServer, SqlFleetStore, sqliteRunner, startFleetServer } from '@sceneway/dashboards';
import { waitFor } from '@sceneway/gateway-agent/testing';
import { connect } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoBoxConfig, enrolBox, ensureDemoBoxKeys, startDemoBank } from '../demo-site/demo-parts.ts';
import type { AgentBoxOptions } from './agent-box-child.ts';

/**
 * Issue #14, "what must be shown", with a real agent: the demo box config plus a telemetry uplink to the
 * machine's Mosquitto, the agent in a process of its own (agent-box-child.ts), its bank (the reference
 * bank) behind a link the test can cut, and a fleet server on SQLite. Cutting the bank link raises
 * FLEET_RPO_EXCEEDED once the oldest unsynced record is older than the (small) RPO, and mending it
 * resolves it; a SIGKILL of the agent shows the box offline by its last will within the broker's bound
 * (1.5 x the keepalive, MQTT 3.1.1 §3.1.2.10), long before the fleet's own heartbeat timeout could.
 */
const MQTT_URL = process.env.SCENEWAY_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const RPO_SECONDS = 6;
const INTERVAL_SECONDS = 1;
/** The telemetry part's keepalive for a 1 s interval (telemetry-part.ts: max(2 x interval, 10)). */
const KEEPALIVE_SECONDS = 10;
const TOKEN = randomBytes(16).toString('hex');

/** A TCP link to the bank that the test can cut (every connection dropped, new ones refused) and mend. */
async function cuttableLink(target: URL) {
  const sockets = new Set<net.Socket>();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) return client.destroy();
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut() {
      cut = true;
      for (const s of sockets) s.destroy();
    },
    mend() {
      cut = false;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The agent process: commands on stdin, answers on stdout, one line each. */
function spawnAgentBox(options: AgentBoxOptions) {
  const script = fileURLToPath(new URL('./agent-box-child.ts', import.meta.url));
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  child.stdin.write(`${JSON.stringify(options)}\n`);
  /** Resolves with the rest of the first line starting with `prefix` (and consumes the output up to it). */
  const line = async (prefix: string) => {
    let found: RegExpExecArray | null = null;
    await waitFor(
      () => {
        if (child.exitCode !== null) throw new Error(`agent exited (${child.exitCode}): ${err}`);
        found = new RegExp(`^${prefix} (.*)$`, 'm').exec(out);
        return found !== null;
      },
      `the agent's ${prefix} line`,
      60_000,
    );
    const match = found as unknown as RegExpExecArray;
    out = out.slice(match.index + match[0].length);
    return match[1] ?? '';
  };
  return {
    child,
    line,
    send: (command: string) => child.stdin.write(`${command}\n`),
    killed: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

let dir: string;
let bank: BankServer;
let link: Awaited<ReturnType<typeof cuttableLink>>;
let fleet: FleetServer;
let box: ReturnType<typeof spawnAgentBox>;
const prefix = `sceneway-test/fleet-agent-${randomBytes(5).toString('hex')}`;
const boxId = `agent-box-${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sceneway-fleet-agent-'));
  const started = await startDemoBank(dir, 0);
  bank = started.bank;
  link = await cuttableLink(new URL(bank.url));
  const options: AgentBoxOptions = {
    dataDir: dir,
    bankUrl: link.url,
    bankPrivateKeyHex: started.privateKeyHex,
    boxId,
    telemetry: { url: MQTT_URL, topicPrefix: prefix, intervalSeconds: INTERVAL_SECONDS },
  };
  // Enrolled with the bank before its first start, as an installer does it.
  const config = demoBoxConfig({ ...options, ports: { admin: 0, broker: 0, bank: 0 }, canteenLines: [] });
  await enrolBox(bank, config, ensureDemoBoxKeys(dir), started.privateKeyHex);
  fleet = await startFleetServer({
    store: new SqlFleetStore(sqliteRunner(join(dir, 'fleet.db'))),
    mqtt: { url: MQTT_URL, topicPrefix: prefix, shareGroup: 'agent-test' },
    http: { host: '127.0.0.1', port: 0 },
    token: TOKEN,
    // Only the last will can mark the box offline within this test; the RPO is seconds, not 30 minutes.
    thresholds: { offlineAfterSeconds: 3600, rpoSeconds: RPO_SECONDS },
    sweepSeconds: 1,
    logger: pino({ level: 'silent' }),
  });
  box = spawnAgentBox(options);
}, 120_000);

afterAll(async () => {
  await box?.killed();
  await fleet?.close();
  await link?.close();
  await bank?.close();
  // The machine's Mosquitto keeps retained messages: leave none behind.
  const client = connect(MQTT_URL, { reconnectPeriod: 0 });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.publishAsync(`${prefix}/${boxId}/status`, '', { retain: true, qos: 1 });
  await client.endAsync();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const api = async (path: string) => {
  const res = await fetch(`${fleet.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status, path).toBe(200);
  return res.headers.get('content-type')?.startsWith('application/json') ? res.json() : res.text();
};
const boxState = async () =>
  (await api(`/api/boxes/${boxId}`)) as {
    box: { online: boolean; reason: string; health: { ledger: { depth: number; headSeq: number } } | null };
    alerts: Array<{ code: string; raisedAt: number }>;
  };
const allAlerts = async () =>
  (
    (await api('/api/alerts?all=1')) as {
      alerts: Array<{ code: string; raisedAt: number; resolvedAt: number | null }>;
    }
  ).alerts;

const promtool = (text: string) => {
  const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  expect(check.error, 'promtool is installed (.ci/run installs prometheus)').toBeUndefined();
  expect(`${check.stdout}${check.stderr}`.trim()).toBe('');
  expect(check.status).toBe(0);
};

describe('a real agent seen by the fleet', () => {
  it('a cut bank link raises the RPO alert past the threshold and resolves when mended; SIGKILL is offline by last will', async () => {
    const adminUrl = await box.line('READY');
    await waitFor(
      async () => (await boxState().catch(() => null))?.box.online === true,
      'the box at the fleet',
    );

    // Bank reachable: a sale is acknowledged and the box reports an empty ledger queue again.
    box.send('SALE');
    const synced = Number(await box.line('APPENDED'));
    await waitFor(async () => {
      const ledger = (await boxState()).box.health?.ledger;
      return ledger !== undefined && ledger.headSeq >= synced && ledger.depth === 0;
    }, 'the first sale synced, as the fleet sees it');
    // A synced box has no RPO alert (the first upload of a cold start on a loaded machine may take
    // longer than this test's seconds-long RPO: then it was raised, and resolves with the sync).
    await waitFor(
      async () => !(await boxState()).alerts.some((a) => a.code === 'FLEET_RPO_EXCEEDED'),
      'no active RPO alert once synced',
    );

    // Bank link cut: the next sale waits on the box; the alert comes once it is older than the RPO.
    link.cut();
    const cutAt = Date.now();
    box.send('SALE');
    await box.line('APPENDED');
    await waitFor(
      async () => (await boxState()).alerts.some((a) => a.code === 'FLEET_RPO_EXCEEDED'),
      'FLEET_RPO_EXCEEDED',
      60_000,
    );
    const rpo = (await boxState()).alerts.find((a) => a.code === 'FLEET_RPO_EXCEEDED');
    // Not before the oldest unsynced record (appended after cutAt) was RPO_SECONDS old.
    expect(rpo!.raisedAt - cutAt).toBeGreaterThanOrEqual(RPO_SECONDS * 1000);

    // The agent's own /metrics with the telemetry part running, and the fleet's after real traffic.
    promtool(await (await fetch(`${adminUrl}/metrics`)).text());

    link.mend();
    await waitFor(
      async () => (await allAlerts()).some((a) => a.code === 'FLEET_RPO_EXCEEDED' && a.resolvedAt !== null),
      'FLEET_RPO_EXCEEDED resolved once the bank acknowledged the record',
      60_000,
    );
    // The agent may append records of its own meanwhile; the queue drains with the link back.
    await waitFor(async () => (await boxState()).box.health?.ledger.depth === 0, 'the ledger queue drained');

    // The box dies: no clean stop, no "stopped" status; the broker's will says offline.
    const killedAt = Date.now();
    await box.killed();
    await waitFor(async () => (await boxState()).box.online === false, 'the box offline', 60_000);
    const seenOfflineMs = Date.now() - killedAt;
    const dead = await boxState();
    expect(dead.box.reason).toBe('last-will');
    expect(dead.alerts.map((a) => a.code)).toContain('FLEET_BOX_OFFLINE');
    expect(seenOfflineMs).toBeLessThan(KEEPALIVE_SECONDS * 1.5 * 1000);

    const fleetMetrics = (await api('/metrics')) as string;
    expect(fleetMetrics).toMatch(
      /sceneway_fleet_telemetry_messages_total\{kind="heartbeat",outcome="applied"\} [1-9]/,
    );
    expect(fleetMetrics).toContain('sceneway_fleet_alerts_active{rule="FLEET_BOX_OFFLINE"} 1');
    promtool(fleetMetrics);
  }, 180_000);
});
