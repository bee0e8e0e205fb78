import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'mqtt';
import pino from 'pino';
import { startFleetServer } from '../dashboards/src/fleet-server/fleet-server.ts';
import { SqlFleetStore } from '../dashboards/src/fleet-server/sql-fleet-store.ts';
import { sqliteRunner } from '../dashboards/src/fleet-server/sql-runners.ts';
import { heartbeatOf, uniquePrefix } from '../dashboards/src/fleet-server/test-support/fleet-test-kit.ts';
import { hashPassword } from '../gateway-agent/src/broker/password-hash.ts';

/**
 * The ops dashboard's cost on the fleet server (D38), on SQLite through the machine's Mosquitto:
 * BOXES boxes' heartbeats absorbed with no dashboard stream open (baseline) and with STREAMS SSE
 * streams open, in the same run; what each stream receives (coalesced `boxes` events); and the latency
 * of the dashboard's fleet list `/ui/api/boxes` (session) against the machine API `/api/boxes` (bearer),
 * the same store query behind both.
 */
const BOXES = Number(process.env.BENCH_FLEET_UI_BOXES ?? 2000);
const ROUNDS = Number(process.env.BENCH_FLEET_UI_ROUNDS ?? 3);
const STREAMS = Number(process.env.BENCH_FLEET_UI_STREAMS ?? 20);
const REQUESTS = Number(process.env.BENCH_FLEET_UI_REQUESTS ?? 50);
const MQTT_URL = process.env.BENCH_FLEET_UI_MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const TOKEN = 'bench-fleet-ui-token-0123456789';
const PASSWORD = 'bench-fleet-ui-password-7319';

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-bench-fleet-ui-'));
  const prefix = uniquePrefix('bench-ui');
  const fleet = await startFleetServer({
    store: new SqlFleetStore(sqliteRunner(join(dir, 'fleet.db'))),
    mqtt: { url: MQTT_URL, topicPrefix: prefix, shareGroup: 'bench-ui' },
    http: { host: '127.0.0.1', port: 0 },
    token: TOKEN,
    sweepSeconds: 3600,
    logger: pino({ level: 'silent' }),
    ui: {
      users: [{ name: 'ops', passwordHash: hashPassword(PASSWORD) }],
      webRoot: join(dir, 'no-build'),
      sse: { maxClients: STREAMS + 10, maxPerSession: STREAMS },
    },
  });
  const publisher = connect(MQTT_URL, { protocolVersion: 5 });
  await new Promise<void>((resolve) => publisher.once('connect', () => resolve()));
  let session = 1;
  const round = async (): Promise<number> => {
    const target = fleet.consumed() + BOXES;
    const started = performance.now();
    session++;
    for (let i = 0; i < BOXES; i++) {
      const boxId = `bench-${i}`;
      const hb = heartbeatOf(boxId, { session, seq: 1 });
      publisher.publish(`${prefix}/${boxId}/heartbeat`, JSON.stringify({ ...hb, sentAt: Date.now() }), {
        qos: 1,
      });
    }
    while (fleet.consumed() < target) await new Promise((r) => setTimeout(r, 10));
    return BOXES / ((performance.now() - started) / 1000);
  };
  try {
    await round(); // fills the store (and warms up)
    const base = new URL(fleet.url);
    const loginTimes: number[] = [];
    const t0 = performance.now();
    const login = await fetch(`${fleet.url}/ui/api/login`, {
      method: 'POST',
      headers: { origin: fleet.url, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'ops', password: PASSWORD }),
    });
    loginTimes.push(performance.now() - t0);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';

    const latency = async (path: string, headers: Record<string, string>) => {
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < REQUESTS; i++) {
        const s = performance.now();
        const res = await fetch(`${fleet.url}${path}`, { headers });
        bytes = (await res.arrayBuffer()).byteLength;
        times.push(performance.now() - s);
      }
      times.sort((a, b) => a - b);
      return { p50: pct(times, 50), p99: pct(times, 99), bytes };
    };
    const apiBoxes = await latency('/api/boxes', { authorization: `Bearer ${TOKEN}` });
    const uiBoxes = await latency('/ui/api/boxes', { cookie });

    const baseline: number[] = [];
    for (let r = 0; r < ROUNDS; r++) baseline.push(await round());

    const received = Array.from({ length: STREAMS }, () => ({ bytes: 0, boxEvents: 0 }));
    const streams = await Promise.all(
      received.map(
        (stat) =>
          new Promise<http.ClientRequest>((resolve) => {
            const req = http.get(
              { host: base.hostname, port: base.port, path: '/ui/api/events', headers: { cookie } },
              (res) => {
                res.setEncoding('utf8');
                res.on('data', (chunk: string) => {
                  stat.bytes += chunk.length;
                  stat.boxEvents += chunk.split('event: boxes\n').length - 1;
                });
                resolve(req);
              },
            );
          }),
      ),
    );
    const withStreams: number[] = [];
    const streamStart = performance.now();
    for (let r = 0; r < ROUNDS; r++) withStreams.push(await round());
    await new Promise((r) => setTimeout(r, 1500)); // the last coalesced flush
    const streamSeconds = (performance.now() - streamStart) / 1000;
    for (const s of streams) s.destroy();

    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const result = {
      boxes: BOXES,
      rounds: ROUNDS,
      streams: STREAMS,
      absorbedPerSec: { noStreams: mean(baseline), withStreams: mean(withStreams) },
      absorbedRatio: mean(withStreams) / mean(baseline),
      perStream: {
        boxEvents: mean(received.map((r) => r.boxEvents)),
        kbPerSecond: mean(received.map((r) => r.bytes)) / 1024 / streamSeconds,
        heartbeatsCovered: BOXES * ROUNDS,
      },
      fleetListMs: { api: apiBoxes, ui: uiBoxes, p99Ratio: uiBoxes.p99 / apiBoxes.p99 },
      loginMs: loginTimes[0],
    };
    console.table({
      'absorbed msg/s, no streams': result.absorbedPerSec.noStreams.toFixed(0),
      [`absorbed msg/s, ${STREAMS} streams`]: result.absorbedPerSec.withStreams.toFixed(0),
      'ratio with/without': result.absorbedRatio.toFixed(2),
      'boxes events per stream': result.perStream.boxEvents.toFixed(1),
      'KiB/s per stream': result.perStream.kbPerSecond.toFixed(1),
      [`/api/boxes p50/p99 ms (${BOXES} boxes)`]: `${apiBoxes.p50.toFixed(1)} / ${apiBoxes.p99.toFixed(1)}`,
      '/ui/api/boxes p50/p99 ms': `${uiBoxes.p50.toFixed(1)} / ${uiBoxes.p99.toFixed(1)}`,
      'login (one scrypt) ms': result.loginMs?.toFixed(0),
    });
    return result;
  } finally {
    await publisher.endAsync();
    await fleet.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
