import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { generateSm2KeyPair } from '../cloud-sync/src/crypto/sm2.ts';
import { startAgent } from '../gateway-agent/src/agent.ts';
import { buildBoxConfigSchema, type FullBoxConfig } from '../gateway-agent/src/config/driver-config.ts';
import { silentLogger } from '../gateway-agent/src/logger.ts';
import { demoConfigDocument, ensureDemoBoxKeys } from '../test-rigs/src/demo-site/demo-parts.ts';

/**
 * Parking lot: 20 simulated ONVIF cameras (10 entry/exit pairs) in their own process, the real agent
 * with the onvif-camera driver on the `onvif` client, the parking scenario and the real ledger (fsync
 * before every barrier answer). Measured at the camera: plate event queued on its pull point → its
 * SetRelayOutputState received (pull answer, parse, snapshot fetch, decision, durable record, relay).
 */
const PAIRS = Number(process.env.BENCH_PARKING_PAIRS ?? 10);
const SECONDS = Number(process.env.BENCH_PARKING_SECONDS ?? 10);
const PACE_MS = Number(process.env.BENCH_PARKING_PACE_MS ?? 1000);
const PASSWORD_ENV = 'BENCH_PARKING_CAMERA_PASSWORD';

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

type RoundResult = {
  latencies: number[];
  emitted: number;
  unmatched: number;
  stillWaiting: number;
  simLoopDelayMs: { p99: number; max: number };
};

export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-bench-parking-'));
  process.env[PASSWORD_ENV] = 'bench-camera-pass';
  const child = fork(fileURLToPath(new URL('./support/onvif-cameras-process.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx'],
  });
  const next = <T>() => new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T)));
  try {
    const started = next<{ urls: string[] }>();
    child.send({ cmd: 'start', pairs: PAIRS, password: process.env[PASSWORD_ENV] });
    const { urls } = await started;
    const secrets = ensureDemoBoxKeys(dir);
    const doc = demoConfigDocument({
      dataDir: dir,
      ports: { admin: 0, broker: 0, bank: 0 },
      bankUrl: 'http://127.0.0.1:9',
      bankPrivateKeyHex: generateSm2KeyPair().privateKeyHex,
      canteenLines: [],
      extraDrivers: urls.map((url, i) => ({
        driver: 'onvif-camera',
        config: {
          id: `cam-${i}`,
          lane: i % 2 === 0 ? 'entry' : 'exit',
          deviceUrl: url,
          username: 'admin',
          passwordEnv: PASSWORD_ENV,
          relayToken: 'relay_barrier',
          snapshot: process.env.BENCH_PARKING_SNAPSHOT !== '0',
        },
      })),
    });
    const config = buildBoxConfigSchema().parse({
      ...doc,
      bank: { ...(doc.bank as object), blacklistPollSeconds: 0 },
      // No free minutes: every exit is a paid stay, a sale record on the money path.
      scenarios: {
        ...(doc.scenarios as object),
        parking: { fees: { freeMinutes: 0, perHourFen: 500, dailyCapFen: 4000 } },
      },
    }) as FullBoxConfig;
    const agent = await startAgent({ config, secrets, logger: silentLogger });
    const upDeadline = Date.now() + 30_000;
    while (agent.status().terminals.filter((t) => t.up).length < urls.length && Date.now() < upDeadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const camerasUp = agent.status().terminals.filter((t) => t.up).length;
    const round = async (seconds: number) => {
      const done = next<RoundResult>();
      child.send({ cmd: 'go', seconds, paceMs: PACE_MS });
      return done;
    };
    await round(3); // warm-up, discarded: JIT, SQLite page cache, keep-alive sockets
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const r = await round(SECONDS);
    loopDelay.disable();
    const sales = agent.ledger.db.prepare("SELECT count(*) AS n FROM records WHERE kind = 'sale'").get() as {
      n: number;
    };
    await agent.stop();
    const sorted = [...r.latencies].sort((a, b) => a - b);
    const latencyMs = {
      p50: pct(sorted, 50),
      p90: pct(sorted, 90),
      p99: pct(sorted, 99),
      max: sorted.at(-1) ?? Number.NaN,
    };
    const result = {
      cameras: urls.length,
      camerasUp,
      secondsMeasured: SECONDS,
      paceMsPerPair: PACE_MS,
      platesEmitted: r.emitted,
      relaysMeasured: sorted.length,
      unansweredAtEnd: r.stillWaiting,
      unmatchedRelays: r.unmatched,
      latencyMs,
      saleRecords: sales.n,
      agentEventLoopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
      simLoopDelayMs: r.simLoopDelayMs,
      goal: { p99Ms: 150, case: 'plate event emitted → relay command received', met: latencyMs.p99 <= 150 },
    };
    process.stdout.write(
      `cameras ${urls.length} (up ${camerasUp}), plates ${r.emitted}, relays ${sorted.length}, ` +
        `p50 ${latencyMs.p50.toFixed(1)} ms, p99 ${latencyMs.p99.toFixed(1)} ms (goal <= 150), max ${latencyMs.max.toFixed(1)} ms\n`,
    );
    return result;
  } finally {
    child.send({ cmd: 'stop' });
    delete process.env[PASSWORD_ENV];
    rmSync(dir, { recursive: true, force: true });
  }
}
