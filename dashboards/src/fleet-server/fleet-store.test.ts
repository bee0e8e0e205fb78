import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TelemetryHeartbeat, TelemetryStatus } from '@sceneway/gateway-agent';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { FleetStore } from './fleet-store.ts';
import { SqlFleetStore } from './sql-fleet-store.ts';
import { postgresRunner, sqliteRunner } from './sql-runners.ts';
import { heartbeatOf, TEST_PG_URL } from './test-support/fleet-test-kit.ts';

const dir = mkdtempSync(join(tmpdir(), 'sceneway-fleet-store-'));
const schemas: string[] = [];
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await client.end();
});

const STORES: Array<[string, () => FleetStore]> = [
  ['SQLite', () => new SqlFleetStore(sqliteRunner(join(dir, `${randomBytes(4).toString('hex')}.db`)))],
  [
    'PostgreSQL',
    () => {
      const schema = `fleet_store_${randomBytes(5).toString('hex')}`;
      schemas.push(schema);
      return new SqlFleetStore(postgresRunner(TEST_PG_URL, schema));
    },
  ],
];

const status = (
  session: number,
  state: 'online' | 'offline',
  reason: TelemetryStatus['reason'],
): TelemetryStatus => ({
  v: 1,
  boxId: 'box-a',
  siteId: 'site-a',
  state,
  reason,
  session,
  at: session,
  agentVersion: '0.1.0',
});

for (const [name, open] of STORES) {
  describe(`fleet store on ${name}`, () => {
    it('a late message of an older session never undoes a newer one; offline wins in the same session', async () => {
      const store = open();
      try {
        await store.init();
        expect(await store.applyStatus(status(2, 'online', 'connected'), 100)).toBe(true);
        // The will of session 1 arrives after session 2 came online (another replica was slower).
        expect(await store.applyStatus(status(1, 'offline', 'last-will'), 101)).toBe(false);
        expect((await store.box('box-a'))?.online).toBe(true);
        const hb: TelemetryHeartbeat = heartbeatOf('box-a', { session: 2, seq: 1 });
        expect(await store.applyHeartbeat(hb, 102)).toBe(true);
        expect(await store.applyHeartbeat(hb, 103)).toBe(false); // QoS 1 duplicate
        expect(await store.applyStatus(status(2, 'offline', 'last-will'), 104)).toBe(true);
        // A heartbeat of session 2 that was still in flight does not bring the dead box back.
        await store.applyHeartbeat(heartbeatOf('box-a', { session: 2, seq: 2 }), 105);
        expect(await store.box('box-a')).toMatchObject({
          online: false,
          reason: 'last-will',
          stateSince: 104,
        });
        expect(await store.applyStatus(status(2, 'online', 'connected'), 106)).toBe(false);
        await store.applyHeartbeat(heartbeatOf('box-a', { session: 3, seq: 1 }), 107);
        expect(await store.box('box-a')).toMatchObject({ online: true, session: 3, lastHeartbeatAt: 107 });
        expect((await store.history('box-a', 10)).map((p) => [p.session, p.seq])).toEqual([
          [2, 1],
          [2, 2],
          [3, 1],
        ]);
      } finally {
        await store.close();
      }
    });

    it('one active alert per box and code: a second raise is refused, a resolve happens once', async () => {
      const store = open();
      try {
        await store.init();
        const alert = { boxId: 'box-a', code: 'FLEET_BOX_OFFLINE', message: 'offline', raisedAt: 10 };
        expect(await store.raiseAlert(alert)).toMatchObject({ code: 'FLEET_BOX_OFFLINE', resolvedAt: null });
        expect(await store.raiseAlert({ ...alert, raisedAt: 11 })).toBeNull();
        expect(await store.resolveAlert('box-a', 'FLEET_BOX_OFFLINE', 12)).toMatchObject({ resolvedAt: 12 });
        expect(await store.resolveAlert('box-a', 'FLEET_BOX_OFFLINE', 13)).toBeNull();
        expect(await store.raiseAlert({ ...alert, raisedAt: 14 })).not.toBeNull();
        expect(await store.alerts({ activeOnly: true })).toHaveLength(1);
        expect(await store.alerts({ activeOnly: false, boxId: 'box-a' })).toHaveLength(2);
      } finally {
        await store.close();
      }
    });
  });
}
