import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import { sessionFile } from './session-file.ts';
import { createTelemetryPart, type TelemetryEvent } from './telemetry-part.ts';
import { telemetryHeartbeatSchema, telemetryStatusSchema, telemetryTopics } from './telemetry-payload.ts';
import {
  clearRetained,
  healthOf,
  recordTopics,
  startCuttableRelay,
  TEST_MQTT_URL,
  uniqueTopicPrefix,
} from './test-support.ts';

/** Issue #14 item 1, against the machine's real Mosquitto (127.0.0.1:1883). */
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function startPart(url: string, prefix: string, boxId: string) {
  const events: TelemetryEvent[] = [];
  const waiters = new Set<() => void>();
  const part = createTelemetryPart({
    link: { url, intervalSeconds: 3600, topicPrefix: prefix },
    boxId,
    siteId: 'site-t',
    agentVersion: '0.1.0-test',
    health: () =>
      healthOf({ ledger: { depth: 4, oldestUnsyncedAgeSeconds: 12, headSeq: 9, lastSyncedSeq: 5 } }),
    clock: { now: () => Date.now() },
    logger: silentLogger,
    backoff: { initialDelayMs: 20, maxDelayMs: 100 },
    onEvent: (e) => {
      events.push(e);
      for (const w of waiters) w();
    },
  });
  const until = (match: (e: TelemetryEvent) => boolean, what: string) =>
    new Promise<TelemetryEvent>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error(`telemetry never reported ${what}`)), 30_000);
      const check = () => {
        const found = events.find(match);
        if (!found) return;
        clearTimeout(timeout);
        waiters.delete(check);
        resolve(found);
      };
      waiters.add(check);
      check();
    });
  return { part, events, until };
}

const newBoxId = () => `tbox-${randomBytes(4).toString('hex')}`;

describe('telemetry part', () => {
  it('publishes a retained online status and a heartbeat in the schema on connect', async () => {
    const prefix = uniqueTopicPrefix('hb');
    const boxId = newBoxId();
    const topics = telemetryTopics(prefix, boxId);
    const live = await recordTopics(TEST_MQTT_URL, `${prefix}/#`);
    cleanups.push(
      () => live.close(),
      () => clearRetained(TEST_MQTT_URL, [topics.status]),
    );
    const { part } = startPart(TEST_MQTT_URL, prefix, boxId);
    await part.start();
    cleanups.push(async () => part.stop());

    const hb = await live.next((m) => m.topic === topics.heartbeat, 'a heartbeat');
    const heartbeat = telemetryHeartbeatSchema.parse(hb.payload);
    expect(heartbeat).toMatchObject({ boxId, siteId: 'site-t', seq: 1, offline: null });
    expect(heartbeat.health.ledger).toEqual({
      depth: 4,
      oldestUnsyncedAgeSeconds: 12,
      headSeq: 9,
      lastSyncedSeq: 5,
    });

    // A subscriber that comes later still learns the box is online: the status is retained.
    const late = await recordTopics(TEST_MQTT_URL, topics.status);
    cleanups.push(() => late.close());
    const status = await late.next((m) => m.retain, 'the retained status');
    expect(telemetryStatusSchema.parse(status.payload)).toMatchObject({
      state: 'online',
      reason: 'connected',
      session: heartbeat.session,
    });
  });

  it('a cut uplink: the broker publishes the last will; the box reconnects and sends a summary, not a queue', async () => {
    const prefix = uniqueTopicPrefix('will');
    const boxId = newBoxId();
    const topics = telemetryTopics(prefix, boxId);
    const relay = await startCuttableRelay({ host: '127.0.0.1', port: Number(new URL(TEST_MQTT_URL).port) });
    const live = await recordTopics(TEST_MQTT_URL, `${prefix}/#`);
    cleanups.push(
      () => relay.close(),
      () => live.close(),
      () => clearRetained(TEST_MQTT_URL, [topics.status]),
    );
    const { part, until } = startPart(relay.url, prefix, boxId);
    await part.start();
    cleanups.push(async () => part.stop());
    const first = (await until((e) => e.type === 'connected', 'a connection')) as { session: number };
    await live.next((m) => m.topic === topics.heartbeat, 'the first heartbeat');

    await relay.cut();
    await until((e) => e.type === 'disconnected', 'the lost uplink');
    const will = await live.next(
      (m) => m.topic === topics.status && (m.payload as { state?: string }).state === 'offline',
      'the last will',
    );
    expect(telemetryStatusSchema.parse(will.payload)).toMatchObject({
      state: 'offline',
      reason: 'last-will',
      session: first.session,
    });
    // Retained: a fleet server that starts (or subscribes) later still learns the box is gone.
    const late = await recordTopics(TEST_MQTT_URL, topics.status);
    cleanups.push(() => late.close());
    expect((await late.next((m) => m.retain, 'the retained will')).payload).toMatchObject({
      state: 'offline',
      reason: 'last-will',
    });
    expect(part.connected()).toBe(false);
    for (let i = 0; i < 3; i++) part.beat();
    await until((e) => e.type === 'heartbeat-missed' && e.missed === 3, 'three missed heartbeats');

    await relay.restore();
    const second = (await until(
      (e) => e.type === 'connected' && e.session !== first.session,
      'a new session',
    )) as { session: number };
    expect(second.session).toBeGreaterThan(first.session);
    const back = await live.next(
      (m) => m.topic === topics.heartbeat && (m.payload as { session: number }).session === second.session,
      'the first heartbeat after the cut',
    );
    const heartbeat = telemetryHeartbeatSchema.parse(back.payload);
    // The three missed beats arrive as one summary, never as three late heartbeats.
    expect(heartbeat.offline).toMatchObject({
      missedHeartbeats: 3,
      maxLedgerDepth: 4,
      maxOldestUnsyncedAgeSeconds: 12,
    });
    expect(live.messages.filter((m) => m.topic === topics.heartbeat)).toHaveLength(2);
  });

  it('a clean stop leaves a retained "stopped" offline status (no will is sent on a clean disconnect)', async () => {
    const prefix = uniqueTopicPrefix('stop');
    const boxId = newBoxId();
    const topics = telemetryTopics(prefix, boxId);
    cleanups.push(() => clearRetained(TEST_MQTT_URL, [topics.status]));
    const { part, until } = startPart(TEST_MQTT_URL, prefix, boxId);
    await part.start();
    await until((e) => e.type === 'connected', 'a connection');
    await part.stop();
    const late = await recordTopics(TEST_MQTT_URL, topics.status);
    cleanups.push(() => late.close());
    const status = await late.next((m) => m.retain, 'the retained status');
    expect(status.payload).toMatchObject({ state: 'offline', reason: 'stopped' });
  });

  it('a box clock stepped back still gets a newer session than the last one it used', async () => {
    const prefix = uniqueTopicPrefix('session');
    const boxId = newBoxId();
    const topics = telemetryTopics(prefix, boxId);
    cleanups.push(() => clearRetained(TEST_MQTT_URL, [topics.status]));
    const dir = mkdtempSync(join(tmpdir(), 'sceneway-telemetry-session-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const sessions = sessionFile(join(dir, 'telemetry-session'));
    const runOnce = async (now: number) => {
      let onConnected: (session: number) => void = () => undefined;
      const connected = new Promise<number>((resolve) => {
        onConnected = resolve;
      });
      const part = createTelemetryPart({
        link: { url: TEST_MQTT_URL, intervalSeconds: 3600, topicPrefix: prefix },
        boxId,
        siteId: 'site-t',
        agentVersion: '0.1.0-test',
        health: () => healthOf(),
        clock: { now: () => now },
        logger: silentLogger,
        sessions,
        onEvent: (e) => {
          if (e.type === 'connected') onConnected(e.session);
        },
      });
      await part.start();
      const session = await connected;
      await part.stop();
      return session;
    };
    const ahead = await runOnce(Date.UTC(2027, 0, 1)); // a clock a month ahead
    const corrected = await runOnce(Date.UTC(2026, 11, 1)); // NTP put it right
    expect(corrected).toBeGreaterThan(ahead);
  });
});
