import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualClock } from '@sceneway/core';
import { createTelemetryPart, silentLogger, type TelemetryHealth } from '@sceneway/gateway-agent';
import { afterEach, describe, expect, it } from 'vitest';
import { startFleetServer } from './fleet-server.ts';
import { SqlFleetStore } from './sql-fleet-store.ts';
import { sqliteRunner } from './sql-runners.ts';
import {
  api,
  clearRetainedStatus,
  healthOf,
  quietLogger,
  startWebhookReceiver,
  TEST_MQTT_URL,
  TEST_TOKEN,
  uniquePrefix,
} from './test-support/fleet-test-kit.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/**
 * The health rules over the real broker, with one injected clock for the box and the fleet: time moves
 * when the test says, so "older than the RPO" needs no waiting.
 */
describe('fleet alert rules', () => {
  it('RPO, rejected batch, terminal down, disk low, clock drift and a silent box: raised once, resolved once', async () => {
    const clock = manualClock(Date.UTC(2026, 11, 1, 9));
    const prefix = uniquePrefix('rules');
    const boxId = `rbox-${randomBytes(3).toString('hex')}`;
    const hook = await startWebhookReceiver();
    cleanups.push(() => hook.close());
    const dir = mkdtempSync(join(tmpdir(), 'sceneway-fleet-rules-'));
    const fleet = await startFleetServer({
      store: new SqlFleetStore(sqliteRunner(join(dir, 'fleet.db'))),
      mqtt: { url: TEST_MQTT_URL, topicPrefix: prefix, shareGroup: 'rules' },
      http: { host: '127.0.0.1', port: 0 },
      token: TEST_TOKEN,
      thresholds: { offlineAfterSeconds: 90 },
      sweepSeconds: 3600,
      webhook: { url: hook.url },
      now: () => clock.now(),
      logger: quietLogger,
    });
    cleanups.push(async () => {
      await fleet.close();
      rmSync(dir, { recursive: true, force: true });
    });

    // The box's ledger: one record waiting since 09:00 (box clock), until the test syncs it.
    let oldestUnsyncedAt: number | null = clock.now();
    let health: Partial<TelemetryHealth> = {};
    const part = createTelemetryPart({
      link: { url: TEST_MQTT_URL, intervalSeconds: 3600, topicPrefix: prefix },
      boxId,
      siteId: 'site-r',
      agentVersion: '0.1.0',
      clock,
      logger: silentLogger,
      health: () =>
        healthOf({
          ledger: {
            depth: oldestUnsyncedAt === null ? 0 : 1,
            oldestUnsyncedAgeSeconds:
              oldestUnsyncedAt === null ? null : (clock.now() - oldestUnsyncedAt) / 1000,
            headSeq: 1,
            lastSyncedSeq: oldestUnsyncedAt === null ? 1 : 0,
          },
          ...health,
        }),
    });
    cleanups.push(() => clearRetainedStatus(TEST_MQTT_URL, prefix, [boxId]));
    await part.start();
    cleanups.push(async () => part.stop());

    clock.advance(29 * 60_000);
    part.beat();
    clock.advance(2 * 60_000); // 31 minutes: past the 30-minute RPO (004 §5.2 c)
    part.beat();
    const rpo = await hook.next('raised', 'FLEET_RPO_EXCEEDED', boxId);
    expect(rpo.alert.message).toContain('31 min');
    // Still not synced: more heartbeats, the same one alert.
    part.beat();
    oldestUnsyncedAt = null;
    part.beat();
    await hook.next('resolved', 'FLEET_RPO_EXCEEDED', boxId);

    health = {
      sync: {
        state: 'stopped',
        consecutiveFailures: 1,
        lastErrorCode: 'SYNC_BATCH_REJECTED',
        stoppedByRejectedBatch: true,
      },
      terminals: [{ id: 'till-2', driver: 'canteen-pos', up: false, firmware: null }],
      diskFreeMb: 100,
      clockDriftMs: 95_000,
    };
    part.beat();
    const bad = ['FLEET_SYNC_STOPPED', 'FLEET_TERMINAL_DOWN:till-2', 'FLEET_DISK_LOW', 'FLEET_CLOCK_DRIFT'];
    for (const code of bad) await hook.next('raised', code, boxId);
    const active = (await api(fleet.url, `/api/boxes/${boxId}`)).body.alerts.map(
      (a: { code: string }) => a.code,
    );
    expect(active.sort()).toEqual([...bad].sort());
    health = {};
    part.beat();
    for (const code of bad) await hook.next('resolved', code, boxId);

    // A box that stops sending (no will: its link is up but it is stuck) is offline after 90 s.
    clock.advance(91_000);
    await fleet.sweep();
    const silent = await hook.next('raised', 'FLEET_BOX_OFFLINE', boxId);
    expect(silent.alert.message).toContain('no heartbeat for 91 s');
    part.beat();
    await hook.next('resolved', 'FLEET_BOX_OFFLINE', boxId);
    await fleet.webhookIdle();
    const counts = new Map<string, number>();
    for (const n of hook.notices)
      counts.set(`${n.event} ${n.alert.code}`, (counts.get(`${n.event} ${n.alert.code}`) ?? 0) + 1);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
    expect(counts.size).toBe(12);
  });
});
