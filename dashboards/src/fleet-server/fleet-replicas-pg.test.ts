import { randomBytes } from 'node:crypto';
import { createTelemetryPart, silentLogger, type TelemetryEvent } from '@sceneway/gateway-agent';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { type FleetServer, startFleetServer } from './fleet-server.ts';
import { SqlFleetStore } from './sql-fleet-store.ts';
import { postgresRunner } from './sql-runners.ts';
import {
  api,
  clearRetainedStatus,
  healthOf,
  quietLogger,
  TEST_MQTT_URL,
  TEST_PG_URL,
  TEST_TOKEN,
  uniquePrefix,
  waitFor,
} from './test-support/fleet-test-kit.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const BOXES = 12;
const BEATS = 4; // per box, the first one sent on connect

/**
 * Issue #14: two replicas on one broker and one PostgreSQL split the telemetry (a shared subscription
 * hands each message to one of them) and both serve the same state from the database.
 */
describe('two fleet-server replicas on PostgreSQL', () => {
  it('split the messages between them and both answer with every box', async () => {
    const prefix = uniquePrefix('share');
    const schema = `fleet_share_${randomBytes(5).toString('hex')}`;
    cleanups.push(async () => {
      const client = new pg.Client({ connectionString: TEST_PG_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    });
    const replicas: FleetServer[] = [];
    for (let i = 0; i < 2; i++) {
      const fleet = await startFleetServer({
        store: new SqlFleetStore(postgresRunner(TEST_PG_URL, schema)),
        mqtt: { url: TEST_MQTT_URL, topicPrefix: prefix, shareGroup: 'replicas' },
        http: { host: '127.0.0.1', port: 0 },
        token: TEST_TOKEN,
        logger: quietLogger,
      });
      replicas.push(fleet);
      cleanups.push(() => fleet.close());
    }
    const boxIds = Array.from({ length: BOXES }, (_, i) => `pbox-${i}-${randomBytes(2).toString('hex')}`);
    cleanups.push(() => clearRetainedStatus(TEST_MQTT_URL, prefix, boxIds));
    let sent = 0;
    const parts = boxIds.map((boxId) =>
      createTelemetryPart({
        link: { url: TEST_MQTT_URL, intervalSeconds: 3600, topicPrefix: prefix },
        boxId,
        siteId: 'site-p',
        agentVersion: '0.1.0',
        clock: { now: () => Date.now() },
        logger: silentLogger,
        health: () => healthOf(),
        onEvent: (e: TelemetryEvent) => {
          if (e.type === 'heartbeat-sent') sent++;
        },
      }),
    );
    for (const part of parts) {
      await part.start();
      cleanups.push(async () => part.stop());
    }
    await waitFor(() => sent === BOXES, 'every box connected and beating');
    for (let i = 1; i < BEATS; i++) for (const part of parts) part.beat();
    // Per box: one online status and BEATS heartbeats.
    const expected = BOXES * (1 + BEATS);
    const [a, b] = replicas as [FleetServer, FleetServer];
    await waitFor(() => a.consumed() + b.consumed() >= expected, `${expected} messages consumed`);
    expect(a.consumed() + b.consumed()).toBe(expected);
    expect(a.consumed()).toBeGreaterThan(0);
    expect(b.consumed()).toBeGreaterThan(0);

    for (const fleet of replicas) {
      const { body } = await api(fleet.url, '/api/boxes');
      expect(body.boxes.map((x: { boxId: string }) => x.boxId).sort()).toEqual([...boxIds].sort());
      expect(body.boxes.every((x: { online: boolean }) => x.online)).toBe(true);
      const history = (await api(fleet.url, `/api/boxes/${boxIds[0]}/history`)).body.history;
      expect(history).toHaveLength(BEATS);
    }
  });
});
