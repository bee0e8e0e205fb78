import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { generateSm2KeyPair } from '../cloud-sync/src/crypto/sm2.ts';
import { startAgent } from '../gateway-agent/src/agent.ts';
import { hashPassword } from '../gateway-agent/src/broker/password-hash.ts';
import { parseBoxConfig } from '../gateway-agent/src/config/load-config.ts';
import { silentLogger } from '../gateway-agent/src/logger.ts';
import { demoConfigDocument, ensureDemoBoxKeys } from '../test-rigs/src/demo-site/demo-parts.ts';
import { spawnReaderFlock } from './support/face-reader-flock-process.ts';

/**
 * Campus gates at the morning peak: 200 simulated face readers (real mqtt.js clients, in their own
 * process) on the agent's embedded aedes broker, each presenting one face every PACE ms, through the
 * face-reader driver, the gates rules and the real ledger (every decision an attendance record,
 * group commit, fsync) before the door command goes back. Latency is measured at the reader:
 * recognition event published → door command received. The bank is unreachable here (the records
 * wait in the outbox); the canteen bench measures the uploader.
 */
const READERS = Number(process.env.BENCH_GATES_READERS ?? 200);
const SECONDS = Number(process.env.BENCH_GATES_SECONDS ?? 10);
const PACE_MS = Number(process.env.BENCH_GATES_PACE_MS ?? 1000);
const GOAL_P99_MS = 50;

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-bench-gates-'));
  try {
    const secrets = ensureDemoBoxKeys(dir);
    const readers = Array.from({ length: READERS }, (_, i) => ({
      id: `gate-${i}`,
      password: `bench-reader-${i}-secret`,
      persons: Array.from({ length: 10 }, (_, k) => `EMP-${i}-${k}`),
    }));
    const doc = demoConfigDocument({
      dataDir: dir,
      ports: { admin: 0, broker: 0, bank: 0 },
      bankUrl: 'http://127.0.0.1:9',
      bankPrivateKeyHex: generateSm2KeyPair().privateKeyHex,
      canteenLines: [],
      extraDrivers: [
        {
          driver: 'face-reader',
          config: {
            readers: readers.map((r) => ({
              id: r.id,
              username: r.id,
              passwordHash: hashPassword(r.password),
            })),
          },
        },
      ],
    });
    const { config } = parseBoxConfig({
      ...doc,
      bank: { ...(doc.bank as object), blacklistPollSeconds: 0 },
      broker: {
        ...(doc.broker as object),
        maxConnections: READERS + 64,
        maxConnectionsPerAddress: READERS + 16,
      },
      scenarios: {
        gates: {
          // Turnstiles of a hall without anti-passback: every face opens, so every event is the full path.
          zones: [{ id: 'hall', antiPassback: false }],
          readers: readers.map((r) => ({ reader: r.id, zone: 'hall', direction: 'in' })),
          groups: [{ id: 'staff', windows: [{ from: '00:00', to: '24:00' }] }],
          persons: readers.flatMap((r) => r.persons.map((id) => ({ id, group: 'staff' }))),
        },
      },
    });
    const agent = await startAgent({ config, secrets, logger: silentLogger });
    const { host, port } = agent.broker.tcpAddress;
    const flock = spawnReaderFlock({
      url: `mqtt://${host}:${port}`,
      readers,
      seconds: SECONDS,
      paceMs: PACE_MS,
    });
    await flock.ready();
    const once = async () => {
      const r = await flock.go();
      const sorted = [...r.latenciesMs].sort((a, b) => a - b);
      return {
        recognitions: sorted.length,
        perSec: sorted.length / r.seconds,
        latencyMs: {
          p50: pct(sorted, 50),
          p90: pct(sorted, 90),
          p99: pct(sorted, 99),
          max: sorted.at(-1) ?? Number.NaN,
        },
        outcomes: r.outcomes,
        simLoopDelayMs: r.simLoopDelayMs,
      };
    };
    // Warm-up (discarded): JIT, SQLite page cache, the broker's first sessions.
    await once();
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    loopDelay.enable();
    const paced = await once();
    loopDelay.disable();
    await flock.quit();
    const records = agent.ledger.stats().headSeq;
    await agent.stop();
    const result = {
      readers: READERS,
      paceMs: PACE_MS,
      secondsPerRun: SECONDS,
      paced: {
        ...paced,
        agentEventLoopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 },
      },
      ledgerRecords: records,
      goal: {
        p99Ms: GOAL_P99_MS,
        case: `${READERS} readers, one face each every ${PACE_MS} ms`,
        met: paced.latencyMs.p99 <= GOAL_P99_MS,
      },
    };
    const rows = [
      ['readers', String(READERS)],
      ['recognitions/s offered', ((1000 / PACE_MS) * READERS).toFixed(0)],
      ['recognitions/s answered', paced.perSec.toFixed(0)],
      ['recognition -> door command p50 (ms)', paced.latencyMs.p50.toFixed(2)],
      [`recognition -> door command p99 (ms, goal <= ${GOAL_P99_MS})`, paced.latencyMs.p99.toFixed(2)],
      ['max (ms)', paced.latencyMs.max.toFixed(2)],
    ];
    for (const [a, b] of rows) process.stdout.write(`${String(a).padEnd(52)} ${String(b).padStart(12)}\n`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
