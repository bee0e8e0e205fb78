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
import { type FleetBoxesResult, spawnFleetBoxes } from './support/fleet-boxes-process.ts';

/**
 * Issue #14's fleet bench: BOXES simulated boxes (the agent's own telemetry part each, one MQTT
 * connection per box, in a load process of their own) beat through the machine's Mosquitto into one
 * fleet-server replica (in this process), on SQLite and then on PostgreSQL.
 *
 * A box beats every 10 s in the field. Per store:
 * - paced: the field's schedule (COMPRESSION 1 by default: 2,000 boxes = 200 heartbeats/s, the boxes'
 *   phases spread evenly) for PACED_SECONDS, while one dashboard client (its own process) asks
 *   /api/boxes and then a box's /history every PROBE_EVERY_MS: messages/s absorbed, lag p99 (the box's
 *   send time to the moment the heartbeat is committed in the store, one clock: same machine), API p99.
 * - stress: compressed time, the same fleet beating every 10 s / STRESS_COMPRESSION of wall time (10x:
 *   every 1 s, 2,000 boxes beating as 20,000 would) for STRESS_SECONDS: what the replica absorbs per
 *   second when offered more than it may take, and what is lost (see SETTLE_IDLE_MS).
 * Baseline (same run, same boxes, same stress schedule): a plain subscriber on the same broker, no server work,
 * no store. The figures are ratios to it. Server RSS is this process's (the replica plus a small harness).
 *
 * Short mode (SCENEWAY_BENCH_SHORT=1 or --short): 200 boxes, 5 s paced, 3 s stress.
 */
const SHORT = process.env.SCENEWAY_BENCH_SHORT === '1' || process.argv.includes('--short');
const BOXES = Number(process.env.BENCH_FLEET_BOXES ?? (SHORT ? 200 : 2000));
const FIELD_INTERVAL_S = 10;
const COMPRESSION = Number(process.env.BENCH_FLEET_COMPRESSION ?? 1);
const PACED_SECONDS = Number(process.env.BENCH_FLEET_PACED_SECONDS ?? (SHORT ? 5 : 30));
/** The stress phase: the same fleet beating STRESS_COMPRESSION times faster than the field (10x: every 1 s). */
const STRESS_COMPRESSION = Number(process.env.BENCH_FLEET_STRESS_COMPRESSION ?? 10);
const STRESS_SECONDS = Number(process.env.BENCH_FLEET_STRESS_SECONDS ?? (SHORT ? 3 : 10));
const PROBE_EVERY_MS = 1000;
const MQTT_URL = process.env.BENCH_FLEET_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const PG_URL = process.env.BENCH_FLEET_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/**
 * A phase is over when every heartbeat sent is stored, or when none more arrived for this long: Mosquitto
 * queues at most max_queued_messages (1000 by default) QoS 1 messages per subscriber and drops the rest,
 * so a replica that falls behind loses heartbeats (counted as lost, not waited for).
 */
const SETTLE_IDLE_MS = 10_000;
const TOKEN = randomBytes(24).toString('hex');

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const summary = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: pct(s, 50), p99: pct(s, 99), max: s.at(-1) ?? Number.NaN };
};
const mb = (bytes: number) => bytes / 2 ** 20;
const progress = (line: string) => process.stdout.write(`  ${line}\n`);

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

/** Waits until count() reaches target or stops moving for SETTLE_IDLE_MS; true when it reached it. */
async function settle(count: () => number, target: number): Promise<boolean> {
  let last = count();
  let movedAt = Date.now();
  while (count() < target) {
    if (count() !== last) {
      last = count();
      movedAt = Date.now();
    } else if (Date.now() - movedAt > SETTLE_IDLE_MS) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

function rssSampler() {
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(process.memoryUsage().rss), 250);
  timer.unref();
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
const stressIntervalMs = () => (FIELD_INTERVAL_S * 1000) / STRESS_COMPRESSION;

/** The stress schedule through a plain subscriber: what the broker passes with nobody doing anything with it. */
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
  const sent = await boxes.pace(stressIntervalMs(), STRESS_SECONDS * 1000);
  await settle(() => received, sent.sent);
  await client.endAsync();
  const seconds = (lastAt - sent.startedAt) / 1000;
  return {
    offeredPerSec: BOXES / (stressIntervalMs() / 1000),
    sent: sent.sent,
    received,
    lost: sent.sent - received,
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
    const warm = await boxes.pace(FIELD_INTERVAL_S * 1000, FIELD_INTERVAL_S * 1000);
    // On a loaded machine some may be lost (Mosquitto's queue, SETTLE_IDLE_MS): the dashboard then
    // asks for the boxes the store knows, and the loss is reported.
    await settle(() => seen.count, warm.sent);
    const warmLost = warm.sent - seen.count;
    const known = (await store.boxes()).map((b) => b.boxId);
    if (known.length === 0) throw new Error(`${name}: no warm-up heartbeat reached the store`);
    progress(`${name}: warm-up stored ${seen.count} heartbeats, ${known.length} boxes known`);

    const intervalMs = (FIELD_INTERVAL_S * 1000) / COMPRESSION;
    seen.count = 0;
    seen.lagsMs = [];
    const probe = spawnApiProbe({
      baseUrl: fleet.url,
      token: TOKEN,
      boxIds: Array.from(
        { length: Math.min(known.length, 500) },
        (_, i) => known[(i * 7919) % known.length] ?? '',
      ),
      everyMs: PROBE_EVERY_MS,
    });
    await probe.ready();
    const paced: FleetBoxesResult = await boxes.pace(intervalMs, PACED_SECONDS * 1000);
    const settled = await settle(() => seen.count, paced.sent);
    const api: ApiProbeResult = await probe.stop();
    progress(`${name}: paced ${seen.count}/${paced.sent} stored${settled ? '' : ' (not settled)'}`);
    const pacedSeconds = (seen.lastAt - paced.startedAt) / 1000;
    const pacedFigures = {
      offeredPerSec: BOXES / (intervalMs / 1000),
      sent: paced.sent,
      stored: seen.count,
      lost: paced.sent - seen.count,
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
    const stress = await boxes.pace(stressIntervalMs(), STRESS_SECONDS * 1000);
    const stressSettled = await settle(() => seen.count, stress.sent);
    const stressSeconds = (seen.lastAt - stress.startedAt) / 1000;
    progress(`${name}: stress ${seen.count}/${stress.sent} stored in ${stressSeconds.toFixed(1)} s`);
    const stressFigures = {
      offeredPerSec: BOXES / (stressIntervalMs() / 1000),
      sent: stress.sent,
      stored: seen.count,
      lost: stress.sent - seen.count,
      settled: stressSettled,
      seconds: stressSeconds,
      absorbedPerSec: seen.count / stressSeconds,
      lagMs: summary(seen.lagsMs),
      loadLoopDelayMs: stress.loadLoopDelayMs,
    };
    return {
      store: name,
      warmUp: { sent: warm.sent, lost: warmLost },
      paced: pacedFigures,
      stress: stressFigures,
      rssMb: { before: rssBefore, ...rss.stop() },
    };
  } finally {
    rss.stop(); // a failed phase must not leave its timer holding the process open
    await fleet.close();
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const topicPrefix = `sceneway-bench/fleet-${randomBytes(5).toString('hex')}`;
  const boxes = spawnFleetBoxes({ url: MQTT_URL, topicPrefix, boxes: BOXES });
  const connectStarted = Date.now();
  await boxes.ready();
  const connectSeconds = (Date.now() - connectStarted) / 1000;
  progress(`${BOXES} boxes connected in ${connectSeconds.toFixed(1)} s`);
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-bench-fleet-'));
  const schema = `fleet_bench_${randomBytes(5).toString('hex')}`;
  try {
    const raw = await baseline(boxes, topicPrefix);
    progress(`raw broker: ${raw.received}/${raw.sent} in ${raw.seconds.toFixed(1)} s`);
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
      stores.map((s) => [
        s.store,
        {
          stressAbsorbedToRawBroker: s.stress.absorbedPerSec / raw.messagesPerSec,
          stressLagP99ToRawBroker: s.stress.lagMs.p99 / raw.lagMs.p99,
        },
      ]),
    );
    const result = {
      load: {
        boxes: BOXES,
        fieldIntervalSeconds: FIELD_INTERVAL_S,
        compression: COMPRESSION,
        pacedIntervalMs: (FIELD_INTERVAL_S * 1000) / COMPRESSION,
        pacedSeconds: PACED_SECONDS,
        stressCompression: STRESS_COMPRESSION,
        stressIntervalMs: stressIntervalMs(),
        stressSeconds: STRESS_SECONDS,
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
    stressCompression: number;
    stressIntervalMs: number;
    stressSeconds: number;
  };
  baselineRawBroker: Awaited<ReturnType<typeof baseline>>;
  sqlite: Awaited<ReturnType<typeof oneStore>>;
  postgres: Awaited<ReturnType<typeof oneStore>>;
}) {
  const { sqlite: s, postgres: p } = r;
  const raw = r.baselineRawBroker;
  const f0 = (n: number) => n.toFixed(0);
  const rows: Array<[string, string, string, string]> = [
    ['', 'sqlite', 'postgres', 'raw broker'],
    ['paced offered msgs/s', f0(s.paced.offeredPerSec), f0(p.paced.offeredPerSec), ''],
    ['paced absorbed msgs/s', f0(s.paced.absorbedPerSec), f0(p.paced.absorbedPerSec), ''],
    ['paced lost / sent', `${s.paced.lost}/${s.paced.sent}`, `${p.paced.lost}/${p.paced.sent}`, ''],
    ['paced lag p50 (ms)', f0(s.paced.lagMs.p50), f0(p.paced.lagMs.p50), ''],
    ['paced lag p99 (ms)', f0(s.paced.lagMs.p99), f0(p.paced.lagMs.p99), ''],
    ['/api/boxes p99 (ms)', s.paced.api.boxes.p99.toFixed(1), p.paced.api.boxes.p99.toFixed(1), ''],
    [
      '/api/boxes/<id>/history p99 (ms)',
      s.paced.api.history.p99.toFixed(1),
      p.paced.api.history.p99.toFixed(1),
      '',
    ],
    ['stress offered msgs/s', f0(s.stress.offeredPerSec), f0(p.stress.offeredPerSec), f0(raw.offeredPerSec)],
    [
      'stress absorbed msgs/s',
      f0(s.stress.absorbedPerSec),
      f0(p.stress.absorbedPerSec),
      f0(raw.messagesPerSec),
    ],
    [
      'stress absorbed / raw broker',
      (s.stress.absorbedPerSec / raw.messagesPerSec).toFixed(2),
      (p.stress.absorbedPerSec / raw.messagesPerSec).toFixed(2),
      '1.00',
    ],
    [
      'stress lost / sent',
      `${s.stress.lost}/${s.stress.sent}`,
      `${p.stress.lost}/${p.stress.sent}`,
      `${raw.lost}/${raw.sent}`,
    ],
    ['stress lag p99 (ms)', f0(s.stress.lagMs.p99), f0(p.stress.lagMs.p99), f0(raw.lagMs.p99)],
    ['server RSS peak (MiB)', f0(s.rssMb.peakMb), f0(p.rssMb.peakMb), ''],
  ];
  process.stdout.write(
    `${r.load.boxes} boxes; paced: a heartbeat every 10 s compressed ${r.load.compression}x (every ${r.load.pacedIntervalMs} ms) for ${r.load.pacedSeconds} s; stress: ${r.load.stressCompression}x (every ${r.load.stressIntervalMs} ms) for ${r.load.stressSeconds} s\n`,
  );
  for (const [label, ...values] of rows)
    process.stdout.write(`${label.padEnd(36)}${values.map((v) => v.padStart(12)).join('')}\n`);
}
