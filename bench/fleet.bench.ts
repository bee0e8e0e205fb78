import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pg from 'pg';
import pino from 'pino';
import {
  type FleetServer,
  type FleetStore,
  postgresRunner,
  SqlFleetStore,
  sqliteRunner,
  startFleetServer,
} from '../dashboards/src/index.ts';
import type { TelemetryHeartbeat } from '../gateway-agent/src/telemetry/index.ts';
import { type ApiProbeResult, spawnApiProbe } from './support/fleet-api-probe-process.ts';
import { boxIdOf, type FleetBoxesResult, spawnFleetBoxes } from './support/fleet-boxes-process.ts';

/**
 * Issue #14's fleet bench: BOXES simulated boxes (the agent's own telemetry part each, one MQTT
 * connection per box, in a load process of their own) beat through the machine's Mosquitto into one
 * fleet-server replica (in this process), on SQLite and then on PostgreSQL.
 *
 * Time is compressed: a box beats every 10 s in the field; here every 10 s / COMPRESSION of wall time
 * (10x by default: every 1 s), so the server sees COMPRESSION times the field's message rate for the
 * same fleet, 2,000 boxes beating as 20,000 would. Per store:
 * - paced: PACED_SECONDS of that schedule while one dashboard client (its own process) asks
 *   /api/boxes and a box's /history every PROBE_EVERY_MS: messages/s absorbed, lag p99 (the box's
 *   send time to the moment the heartbeat is committed in the store, one clock: same machine), API p99.
 * - burst: every box sends BURST_BEATS heartbeats at once: the most the replica absorbs per second.
 * Baseline (same run, same boxes, same burst): a plain subscriber on the same broker, no server work,
 * no store. The figures are ratios to it. Server RSS is this process's (the replica plus a small harness).
 *
 * Short mode (SCENEWAY_BENCH_SHORT=1 or --short): 200 boxes, 5 s paced, 2 beats of burst.
 */
const SHORT = process.env.SCENEWAY_BENCH_SHORT === '1' || process.argv.includes('--short');
const BOXES = Number(process.env.BENCH_FLEET_BOXES ?? (SHORT ? 200 : 2000));
const FIELD_INTERVAL_S = 10;
const COMPRESSION = Number(process.env.BENCH_FLEET_COMPRESSION ?? 10);
const PACED_SECONDS = Number(process.env.BENCH_FLEET_PACED_SECONDS ?? (SHORT ? 5 : 30));
const BURST_BEATS = Number(process.env.BENCH_FLEET_BURST_BEATS ?? (SHORT ? 2 : 5));
const PROBE_EVERY_MS = 250;
const MQTT_URL = process.env.BENCH_FLEET_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const PG_URL = process.env.BENCH_FLEET_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** A phase whose heartbeats are not all in the store by then is reported with what is missing. */
const SETTLE_TIMEOUT_MS = 120_000;
const TOKEN = randomBytes(24).toString('hex');

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const summary = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p99: pct(s, 99), max: s.at(-1) ?? Number.NaN };
};
const mb = (bytes: number) => bytes / 2 ** 20;

/** Every heartbeat the store accepted, with when it was committed: the lag is measured here. */
interface Visible {
  count: number;
  lastAt: number;
  lagsMs: number[];
}

/** The store as the server uses it, plus a note of each heartbeat the moment its write returned. */
function watchedStore(inner: FleetStore, seen: Visible): FleetStore {
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'applyHeartbeat')
        return async (h: TelemetryHeartbeat, receivedAt: number) => {
          const applied = await target.applyHeartbeat(h, receivedAt);
          if (applied) {
            const at = Date.now();
            seen.count++;
            seen.lastAt = at;
            seen.lagsMs.push(at - h.sentAt);
          }
          return applied;
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

function rssSampler() {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(process.memoryUsage().rss), 250);
  return {
    stop() {
      clearInterval(timer);
      samples.push(process.memoryUsage().rss);
      return {
        peakMb: mb(Math.max(...samples)),
        meanMb: mb(samples.reduce((a, b) => a + b, 0) / samples.length),
      };
    },
  };
}

type Boxes = ReturnType<typeof spawnFleetBoxes>;

/** Burst through a plain subscriber: what the broker passes with nobody doing anything with it. */
async function baseline(boxes: Boxes, topicPrefix: string) {
  const client = await mqtt.connectAsync(MQTT_URL, { protocolVersion: 5, clean: true, reconnectPeriod: 0 });
  let received = 0;
  let lastAt = 0;
  const lags: number[] = [];
  client.on('message', (_topic, payload) => {
    received++;
    lastAt = Date.now();
    lags.push(lastAt - (JSON.parse(payload.toString('utf8')) as TelemetryHeartbeat).sentAt);
  });
  // A shared subscription too, so the broker does the same work as for the fleet server.
  await client.subscribeAsync(`$share/bench-raw/${topicPrefix}/+/heartbeat`, { qos: 1 });
  const sent = await boxes.burst(BURST_BEATS);
  await until(() => received >= sent.sent, SETTLE_TIMEOUT_MS);
  await client.endAsync();
  const seconds = (lastAt - sent.startedAt) / 1000;
  return {
    sent: sent.sent,
    received,
    seconds,
    messagesPerSec: received / seconds,
    lagMs: summary(lags),
    loadLoopDelayMs: sent.loadLoopDelayMs,
  };
}

async function oneStore(name: 'sqlite' | 'postgres', store: FleetStore, boxes: Boxes, topicPrefix: string) {
  const seen: Visible = { count: 0, lastAt: 0, lagsMs: [] };
  const rssBefore = mb(process.memoryUsage().rss);
  const rss = rssSampler();
  const fleet: FleetServer = await startFleetServer({
    store: watchedStore(store, seen),
    mqtt: { url: MQTT_URL, topicPrefix, shareGroup: `bench-${name}` },
    http: { host: '127.0.0.1', port: 0 },
    token: TOKEN,
    logger: pino({ level: 'silent' }),
  });
  try {
    // Every box known to the store before the dashboard asks for one.
    const warm = await boxes.burst(1);
    await until(() => seen.count >= warm.sent, SETTLE_TIMEOUT_MS);

    const intervalMs = (FIELD_INTERVAL_S * 1000) / COMPRESSION;
    seen.count = 0;
    seen.lagsMs = [];
    const probe = spawnApiProbe({
      baseUrl: fleet.url,
      token: TOKEN,
      boxIds: Array.from({ length: Math.min(BOXES, 500) }, (_, i) => boxIdOf((i * 7919) % BOXES)),
      everyMs: PROBE_EVERY_MS,
    });
    await probe.ready();
    const paced: FleetBoxesResult = await boxes.pace(intervalMs, PACED_SECONDS * 1000);
    const settled = await until(() => seen.count >= paced.sent, SETTLE_TIMEOUT_MS);
    const api: ApiProbeResult = await probe.stop();
    const pacedSeconds = (seen.lastAt - paced.startedAt) / 1000;
    const pacedFigures = {
      offeredPerSec: BOXES / (intervalMs / 1000),
      sent: paced.sent,
      stored: seen.count,
      settled,
      seconds: pacedSeconds,
      absorbedPerSec: seen.count / pacedSeconds,
      lagMs: summary(seen.lagsMs),
      api: {
        boxes: summary(api.boxesMs),
        history: summary(api.historyMs),
        boxesResponseKb: api.boxesBytes / 1024,
      },
      loadLoopDelayMs: paced.loadLoopDelayMs,
    };

    seen.count = 0;
    seen.lagsMs = [];
    const burst = await boxes.burst(BURST_BEATS);
    const burstSettled = await until(() => seen.count >= burst.sent, SETTLE_TIMEOUT_MS);
    const burstSeconds = (seen.lastAt - burst.startedAt) / 1000;
    const burstFigures = {
      sent: burst.sent,
      stored: seen.count,
      settled: burstSettled,
      seconds: burstSeconds,
      absorbedPerSec: seen.count / burstSeconds,
      lagMs: summary(seen.lagsMs),
    };
    return {
      store: name,
      paced: pacedFigures,
      burst: burstFigures,
      rssMb: { before: rssBefore, ...rss.stop() },
    };
  } finally {
    await fleet.close();
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const topicPrefix = `sceneway-bench/fleet-${randomBytes(5).toString('hex')}`;
  const boxes = spawnFleetBoxes({ url: MQTT_URL, topicPrefix, boxes: BOXES });
  const connectStarted = Date.now();
  await boxes.ready();
  const connectSeconds = (Date.now() - connectStarted) / 1000;
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-bench-fleet-'));
  const schema = `fleet_bench_${randomBytes(5).toString('hex')}`;
  try {
    const raw = await baseline(boxes, topicPrefix);
    const sqlite = await oneStore(
      'sqlite',
      new SqlFleetStore(sqliteRunner(join(dir, 'fleet.db'))),
      boxes,
      topicPrefix,
    );
    const postgres = await oneStore(
      'postgres',
      new SqlFleetStore(postgresRunner(PG_URL, schema)),
      boxes,
      topicPrefix,
    );
    const stores = [sqlite, postgres];
    const ratios = Object.fromEntries(
      stores.map((s) => [s.store, { burstAbsorbedToRawBroker: s.burst.absorbedPerSec / raw.messagesPerSec }]),
    );
    const result = {
      load: {
        boxes: BOXES,
        fieldIntervalSeconds: FIELD_INTERVAL_S,
        compression: COMPRESSION,
        pacedIntervalMs: (FIELD_INTERVAL_S * 1000) / COMPRESSION,
        pacedSeconds: PACED_SECONDS,
        burstBeatsPerBox: BURST_BEATS,
        apiProbeEveryMs: PROBE_EVERY_MS,
        short: SHORT,
        connectSeconds,
        broker: MQTT_URL,
      },
      baselineRawBroker: raw,
      sqlite,
      postgres,
      ratios,
    };
    print(result);
    return result;
  } finally {
    await boxes.quit();
    rmSync(dir, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  }
}

function print(r: {
  load: {
    boxes: number;
    compression: number;
    pacedIntervalMs: number;
    pacedSeconds: number;
    burstBeatsPerBox: number;
  };
  baselineRawBroker: { messagesPerSec: number; lagMs: { p99: number } };
  sqlite: Awaited<ReturnType<typeof oneStore>>;
  postgres: Awaited<ReturnType<typeof oneStore>>;
}) {
  const { sqlite: s, postgres: p } = r;
  const raw = r.baselineRawBroker;
  const rows: Array<[string, string, string, string]> = [
    ['', 'sqlite', 'postgres', 'raw broker'],
    ['paced offered msgs/s', s.paced.offeredPerSec.toFixed(0), p.paced.offeredPerSec.toFixed(0), ''],
    ['paced absorbed msgs/s', s.paced.absorbedPerSec.toFixed(0), p.paced.absorbedPerSec.toFixed(0), ''],
    ['paced stored / sent', `${s.paced.stored}/${s.paced.sent}`, `${p.paced.stored}/${p.paced.sent}`, ''],
    ['paced lag p50 (ms)', s.paced.lagMs.p50.toFixed(0), p.paced.lagMs.p50.toFixed(0), ''],
    ['paced lag p99 (ms)', s.paced.lagMs.p99.toFixed(0), p.paced.lagMs.p99.toFixed(0), ''],
    ['/api/boxes p99 (ms)', s.paced.api.boxes.p99.toFixed(1), p.paced.api.boxes.p99.toFixed(1), ''],
    [
      '/api/boxes/<id>/history p99 (ms)',
      s.paced.api.history.p99.toFixed(1),
      p.paced.api.history.p99.toFixed(1),
      '',
    ],
    [
      'burst absorbed msgs/s',
      s.burst.absorbedPerSec.toFixed(0),
      p.burst.absorbedPerSec.toFixed(0),
      raw.messagesPerSec.toFixed(0),
    ],
    [
      'burst absorbed / raw broker',
      (s.burst.absorbedPerSec / raw.messagesPerSec).toFixed(2),
      (p.burst.absorbedPerSec / raw.messagesPerSec).toFixed(2),
      '1.00',
    ],
    [
      'burst lag p99 (ms)',
      s.burst.lagMs.p99.toFixed(0),
      p.burst.lagMs.p99.toFixed(0),
      raw.lagMs.p99.toFixed(0),
    ],
    ['server RSS peak (MiB)', s.rssMb.peakMb.toFixed(0), p.rssMb.peakMb.toFixed(0), ''],
  ];
  process.stdout.write(
    `${r.load.boxes} boxes, a heartbeat every 10 s compressed ${r.load.compression}x (every ${r.load.pacedIntervalMs} ms) for ${r.load.pacedSeconds} s; burst ${r.load.burstBeatsPerBox} beats per box\n`,
  );
  for (const [label, ...values] of rows)
    process.stdout.write(`${label.padEnd(36)}${values.map((v) => v.padStart(12)).join('')}\n`);
}
