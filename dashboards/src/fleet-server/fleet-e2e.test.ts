import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type FleetServer, startFleetServer } from './fleet-server.ts';
import { SqlFleetStore } from './sql-fleet-store.ts';
import { sqliteRunner } from './sql-runners.ts';
import {
  api,
  clearRetainedStatus,
  heartbeatOf,
  killed,
  quietLogger,
  spawnTelemetryBox,
  startWebhookReceiver,
  TEST_MQTT_URL,
  TEST_TOKEN,
  uniquePrefix,
  waitFor,
} from './test-support/fleet-test-kit.ts';

/**
 * Issue #14: a box dies (SIGKILL of the process holding its telemetry connection) and the fleet marks it
 * offline from the broker's last will and raises one alert; the box returns and the alert resolves.
 * Real Mosquitto, real processes, real HTTP webhook.
 */
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sqliteFleet(prefix: string, webhookUrl: string): Promise<FleetServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-fleet-'));
  const fleet = await startFleetServer({
    store: new SqlFleetStore(sqliteRunner(join(dir, 'fleet.db'))),
    mqtt: { url: TEST_MQTT_URL, topicPrefix: prefix, shareGroup: `g${randomBytes(3).toString('hex')}` },
    http: { host: '127.0.0.1', port: 0 },
    token: TEST_TOKEN,
    // Only the last will can mark the box offline in this test: no heartbeat timeout fires.
    thresholds: { offlineAfterSeconds: 3600 },
    webhook: { url: webhookUrl, backoff: { initialDelayMs: 10, maxDelayMs: 50 } },
    logger: quietLogger,
  });
  cleanups.push(async () => {
    await fleet.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return fleet;
}

describe('fleet server end to end', () => {
  it('a killed box goes offline by its last will with one alert; its return resolves it once', async () => {
    const prefix = uniquePrefix('kill');
    const boxId = `kbox-${randomBytes(3).toString('hex')}`;
    const hook = await startWebhookReceiver();
    cleanups.push(() => hook.close());
    const fleet = await sqliteFleet(prefix, hook.url);

    cleanups.push(() => clearRetainedStatus(TEST_MQTT_URL, prefix, [boxId]));
    let box = await spawnTelemetryBox(TEST_MQTT_URL, prefix, boxId);
    cleanups.push(() => killed(box));
    await waitFor(
      async () => (await api(fleet.url, `/api/boxes/${boxId}`)).body.box?.lastHeartbeatAt != null,
      'the box online at the fleet',
    );

    await killed(box);
    const raised = await hook.next('raised', 'FLEET_BOX_OFFLINE', boxId);
    expect(raised.alert.message).toContain('last-will');
    const { body } = await api(fleet.url, `/api/boxes/${boxId}`);
    expect(body.box).toMatchObject({ online: false, reason: 'last-will' });
    expect(body.alerts.map((a: { code: string }) => a.code)).toEqual(['FLEET_BOX_OFFLINE']);

    box = await spawnTelemetryBox(TEST_MQTT_URL, prefix, boxId);
    await hook.next('resolved', 'FLEET_BOX_OFFLINE', boxId);
    await waitFor(
      async () => (await api(fleet.url, `/api/boxes/${boxId}`)).body.box?.online === true,
      'online again',
    );
    // More evaluations of the same state (sweeps, heartbeats) notify nothing new.
    await fleet.sweep();
    await fleet.sweep();
    await fleet.webhookIdle();
    expect(hook.notices.map((n) => `${n.event} ${n.alert.code}`)).toEqual([
      'raised FLEET_BOX_OFFLINE',
      'resolved FLEET_BOX_OFFLINE',
    ]);
    expect((await api(fleet.url, '/api/alerts')).body.alerts).toEqual([]);
    const history = (await api(fleet.url, `/api/boxes/${boxId}/history`)).body.history;
    expect(history.length).toBeGreaterThanOrEqual(2);
  });

  it('the API refuses requests without the bearer token; /healthz is open', async () => {
    const hook = await startWebhookReceiver();
    cleanups.push(() => hook.close());
    const fleet = await sqliteFleet(uniquePrefix('auth'), hook.url);
    for (const path of ['/api/boxes', '/api/boxes/x', '/api/boxes/x/history', '/api/alerts', '/metrics']) {
      expect((await api(fleet.url, path, null)).status, path).toBe(401);
      expect((await api(fleet.url, path, `${TEST_TOKEN}x`)).status, path).toBe(401);
    }
    expect((await api(fleet.url, '/api/boxes')).status).toBe(200);
    expect((await api(fleet.url, '/healthz', null)).status).toBe(200);
  });

  it('refuses a payload that speaks for another box than its topic names, and a payload out of schema', async () => {
    const prefix = uniquePrefix('forge');
    const hook = await startWebhookReceiver();
    cleanups.push(() => hook.close());
    const fleet = await sqliteFleet(prefix, hook.url);
    const client = connect(TEST_MQTT_URL, { reconnectPeriod: 0 });
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    cleanups.push(() => client.endAsync());
    const forged = heartbeatOf('victim', { session: 1, seq: 1 });
    await client.publishAsync(`${prefix}/attacker/heartbeat`, JSON.stringify(forged), { qos: 1 });
    const extra = { ...heartbeatOf('attacker', { session: 1, seq: 1 }), cardUid: '04A1B2C3D4' };
    await client.publishAsync(`${prefix}/attacker/heartbeat`, JSON.stringify(extra), { qos: 1 });
    // Then an honest one: this replica handles messages in order, so once it is stored the others were handled.
    const honest = heartbeatOf('attacker', { session: 1, seq: 2 });
    await client.publishAsync(`${prefix}/attacker/heartbeat`, JSON.stringify(honest), { qos: 1 });
    await waitFor(
      async () => (await api(fleet.url, '/api/boxes/attacker')).status === 200,
      'the honest heartbeat',
    );
    expect((await api(fleet.url, '/api/boxes/victim')).status).toBe(404);
    const history = (await api(fleet.url, '/api/boxes/attacker/history')).body.history;
    expect(history.map((p: { seq: number }) => p.seq)).toEqual([2]);
    const metrics = (await api(fleet.url, '/metrics')).body as string;
    expect(metrics).toContain(
      'sceneway_fleet_telemetry_messages_total{kind="heartbeat",outcome="refused_box_mismatch"} 1',
    );
    expect(metrics).toContain(
      'sceneway_fleet_telemetry_messages_total{kind="heartbeat",outcome="refused_schema"} 1',
    );
  });
});
