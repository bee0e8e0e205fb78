import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { generateSm2KeyPair } from '@sceneway/cloud-sync';
import { manualClock } from '@sceneway/core';
import {
  buildBoxConfigSchema,
  createLogger,
  type FullBoxConfig,
  type RunningAgent,
  startAgent,
} from '@sceneway/gateway-agent';
import { waitFor } from '@sceneway/gateway-agent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfigDocument, ensureDemoBoxKeys } from '../demo-site/demo-parts.ts';
import type { RelayCommand, SimOnvifCamera } from '../sim-onvif-camera/sim-camera.ts';
import { startSimOnvifCamera } from '../sim-onvif-camera/sim-camera.ts';

/**
 * A parking lot end to end through the real agent: two simulated ONVIF cameras (entry, exit) on
 * loopback, the onvif-camera driver on the unmodified `onvif` client, the parking scenario, the
 * ledger. Entry → exit → fee → barrier relay → sale record; a reboot of the exit camera while the car
 * is inside; an exit without entry in the review queue on /api/status.
 */
const HOUR = 3_600_000;
const PASSWORD_ENV = 'SCENEWAY_E2E_CAM_PASSWORD';
let dataDir: string;
let agent: RunningAgent;
let entryCam: SimOnvifCamera;
let exitCam: SimOnvifCamera;
const clock = manualClock(Date.UTC(2026, 2, 2, 1, 0, 0));
/** Every log line of the run, at trace level: scanned for plates and the camera password at the end. */
const logLines: string[] = [];
const capture = new Writable({
  write(chunk, _encoding, done) {
    logLines.push(...String(chunk).split('\n').filter(Boolean));
    done();
  },
});

const camera = (id: string, lane: 'entry' | 'exit', cam: SimOnvifCamera) => ({
  driver: 'onvif-camera',
  scenario: 'parking',
  config: {
    id,
    lane,
    deviceUrl: cam.deviceUrl,
    username: 'admin',
    passwordEnv: PASSWORD_ENV,
    relayToken: 'relay_barrier',
    silenceTimeoutMs: 3000,
    requestTimeoutMs: 3000,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
  },
});

beforeAll(async () => {
  process.env[PASSWORD_ENV] = 'camera-pass';
  entryCam = await startSimOnvifCamera({ maxPullWaitMs: 250 });
  exitCam = await startSimOnvifCamera({ maxPullWaitMs: 250 });
  dataDir = mkdtempSync(join(tmpdir(), 'sceneway-parking-'));
  const secrets = ensureDemoBoxKeys(dataDir);
  const doc = demoConfigDocument({
    dataDir,
    ports: { admin: 0, broker: 0, bank: 0 },
    bankUrl: 'http://127.0.0.1:9',
    bankPrivateKeyHex: generateSm2KeyPair().privateKeyHex,
    canteenLines: [],
    extraDrivers: [camera('lot-entry-cam', 'entry', entryCam), camera('lot-exit-cam', 'exit', exitCam)],
  });
  const config = buildBoxConfigSchema().parse({
    ...doc,
    bank: { ...(doc.bank as object), blacklistPollSeconds: 0 },
    scenarios: {
      ...(doc.scenarios as object),
      parking: { fees: { freeMinutes: 15, perHourFen: 500, dailyCapFen: 4000 } },
    },
  }) as FullBoxConfig;
  agent = await startAgent({
    config,
    secrets,
    logger: createLogger({ level: 'trace', destination: capture }),
    clock,
  });
  await waitFor(() => agent.status().terminals.filter((t) => t.up).length === 2, 'both cameras up');
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await entryCam?.close();
  await exitCam?.close();
  rmSync(dataDir, { recursive: true, force: true });
  delete process.env[PASSWORD_ENV];
});

const records = () =>
  agent.ledger.db
    .prepare<
      [],
      {
        kind: string;
        amount_fen: number | null;
        terminal_id: string;
        payload: string;
        pii_sealed: Buffer | null;
      }
    >('SELECT kind, amount_fen, terminal_id, payload, pii_sealed FROM records ORDER BY seq')
    .all()
    .map((r) => ({ ...r, payload: JSON.parse(r.payload) as Record<string, unknown> }));

const nextRelay = (cam: SimOnvifCamera) => new Promise<RelayCommand>((resolve) => cam.once('relay', resolve));

describe('parking lot through the agent, the onvif-camera driver and simulated cameras', () => {
  it('entry → exit 2 h later → 1000 fen sale record → exit barrier, after a reboot of the exit camera mid-stay', async () => {
    const entryRelay = nextRelay(entryCam);
    entryCam.emitPlate({ plate: '京A12345', likelihood: 0.96 });
    expect(await entryRelay).toMatchObject({ token: 'relay_barrier', state: 'active' });
    await waitFor(() => records().some((r) => r.payload.lane === 'entry'), 'the entry record');
    // A duplicate read while the car waits at the barrier is the same sighting.
    const again = nextRelay(entryCam);
    entryCam.emitPlate({ plate: '京A12345', likelihood: 0.91 });
    await again;
    expect(records().filter((r) => r.payload.lane === 'entry')).toHaveLength(1);

    // The exit camera reboots while the car is parked: it forgets its pull point; the driver subscribes again.
    const resubscribed = new Promise((resolve) => exitCam.once('subscribed', resolve));
    await exitCam.reboot(30);
    await resubscribed;

    clock.advance(2 * HOUR);
    const exitRelay = nextRelay(exitCam);
    exitCam.emitPlate({ plate: '京A12345', likelihood: 0.94, flavour: 'hikvision' });
    expect(await exitRelay).toMatchObject({ state: 'active' });
    const sale = records().find((r) => r.kind === 'sale');
    expect(sale).toMatchObject({
      amount_fen: 1000,
      terminal_id: 'lot-exit-cam',
      payload: { scenario: 'parking', lane: 'exit', minutes: 120, feeFen: 1000 },
    });
    // Personal data sealed, never in clear in the record; the sale waits in the outbox for the bank.
    expect(sale?.pii_sealed).toBeInstanceOf(Buffer);
    expect(JSON.stringify(sale?.payload)).not.toContain('京A12345');
    expect(agent.ledger.stats().unsyncedCount).toBeGreaterThanOrEqual(2);
    // Each sighting's picture follows it, stored sealed by digest (never the JPEG bytes in clear).
    const snapshots = () =>
      agent.ledger.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM parking_snapshot_events').get()
        ?.n ?? 0;
    await waitFor(() => snapshots() >= 2, 'the snapshots of the entry and the exit');
  });

  it('keeps the barrier closed for an exit without entry and shows the review queue on /api/status', async () => {
    const relays: RelayCommand[] = [];
    exitCam.on('relay', (c: RelayCommand) => relays.push(c));
    exitCam.emitPlate({ plate: '粤B99999', likelihood: 0.95 });
    await waitFor(
      () => agent.status().alerts.some((a) => a.code === 'PARKING_MANUAL_REVIEW'),
      'the manual-review alert',
    );
    const status = (await (await fetch(`${agent.adminUrl}/api/status`)).json()) as {
      alerts: Array<{ code: string; message: string }>;
    };
    expect(status.alerts).toContainEqual(
      expect.objectContaining({
        code: 'PARKING_MANUAL_REVIEW',
        message: expect.stringMatching(/^1 parking/),
      }),
    );
    expect(relays).toEqual([]);
  });

  it('wrote no plate and no camera password in any log line of the run', () => {
    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.some((l) => l.includes('parking: exit'))).toBe(true);
    for (const secret of ['京A12345', '粤B99999', 'camera-pass']) {
      expect(logLines.filter((l) => l.includes(secret))).toEqual([]);
    }
  });
});
