import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createTelemetryPart, silentLogger, type TelemetryHealth } from '@sceneway/gateway-agent';
import mqtt from 'mqtt';
import { spawnLineChild, stdinLines } from './line-protocol.ts';

/**
 * The simulated fleet of the fleet bench, in its own process (boxes are other machines: they must not
 * share the event loop of the fleet server under test). Each box is the agent's own telemetry part
 * (createTelemetryPart: its own MQTT connection with a last will, a retained status, heartbeats built
 * and checked through telemetry-payload.ts), so what reaches the broker is byte for byte what a box
 * sends. The part's own timer is set to an hour; this process calls beat() on the bench's schedule
 * instead, which is how time is compressed.
 *
 * Commands on stdin (after the JSON args line): `PACE <intervalMs> <durationMs>` (every box beats once
 * per interval, the boxes spread evenly over it), `BURST <n>` (every box beats n times at once),
 * `QUIT` (clean stop, retained statuses cleared). Answers: `READY`, `RESULT <json>`.
 */
export interface FleetBoxesArgs {
  url: string;
  topicPrefix: string;
  boxes: number;
}

export interface FleetBoxesResult {
  /** Heartbeats the broker acknowledged (PUBACK) in this phase. */
  sent: number;
  /** Wall clock (ms) of the phase's first publish and of its last PUBACK. */
  startedAt: number;
  lastAckAt: number;
  loadLoopDelayMs: { p99: number; max: number };
}

export const boxIdOf = (i: number) => `bench-box-${String(i).padStart(5, '0')}`;

export function spawnFleetBoxes(args: FleetBoxesArgs) {
  const child = spawnLineChild(import.meta.url, 'fleet boxes process');
  child.send(JSON.stringify(args));
  const result = async () => JSON.parse(await child.nextLine('RESULT ')) as FleetBoxesResult;
  return {
    ready: () => child.nextLine('READY'),
    pace: (intervalMs: number, durationMs: number) => {
      child.send(`PACE ${intervalMs} ${durationMs}`);
      return result();
    },
    burst: (beats: number) => {
      child.send(`BURST ${beats}`);
      return result();
    },
    quit: () => child.finish('QUIT'),
  };
}

/** A canteen box's figures: three tills (one running older firmware), a few records waiting. */
function healthOf(i: number, beat: number): TelemetryHealth {
  const depth = (i * 7 + beat) % 40;
  return {
    uptimeSeconds: 3600 + beat * 10,
    ledger: {
      depth,
      oldestUnsyncedAgeSeconds: depth === 0 ? null : 1 + (beat % 20),
      headSeq: 10_000 + beat,
      lastSyncedSeq: 10_000 + beat - depth,
    },
    sync: {
      state: depth === 0 ? 'idle' : 'sending',
      consecutiveFailures: 0,
      lastErrorCode: null,
      stoppedByRejectedBatch: false,
    },
    terminals: [
      { id: 'north-till-1', driver: 'canteen-pos', up: true, firmware: 'POS-2.4.1' },
      {
        id: 'north-till-2',
        driver: 'canteen-pos',
        up: true,
        firmware: i % 10 === 0 ? 'POS-2.3.9' : 'POS-2.4.1',
      },
      { id: 'south-till-1', driver: 'canteen-pos', up: true, firmware: 'POS-2.4.1' },
    ],
    diskFreeMb: 20_000 - (beat % 100),
    clockDriftMs: (i % 5) * 10,
    cpu: { load1: 0.4, cores: 2, processPercent: 1.5 },
    memory: { rssMb: 90, systemFreeMb: 1200, systemTotalMb: 4000 },
  };
}

async function main(): Promise<void> {
  const next = stdinLines();
  const args = JSON.parse(await next()) as FleetBoxesArgs;
  const beats = new Array<number>(args.boxes).fill(0);
  let acked = 0;
  let lastAckAt = 0;
  let connected = 0;
  const parts: Array<ReturnType<typeof createTelemetryPart>> = [];
  for (let i = 0; i < args.boxes; i++) {
    parts.push(
      createTelemetryPart({
        link: { url: args.url, intervalSeconds: 3600, topicPrefix: args.topicPrefix },
        boxId: boxIdOf(i),
        siteId: `site-${String(i % 400).padStart(3, '0')}`,
        agentVersion: i % 20 === 0 ? '0.1.0' : '0.1.1',
        health: () => healthOf(i, beats[i]!++),
        clock: { now: () => Date.now() },
        logger: silentLogger,
        onEvent: (e) => {
          if (e.type === 'connected') connected++;
          if (e.type === 'heartbeat-sent') {
            acked++;
            lastAckAt = Date.now();
          }
        },
      }),
    );
  }
  // Log in in batches: a thousand CONNECTs at once is a site after a power cut, not the steady state measured here.
  const waitUntil = async (cond: () => boolean) => {
    while (!cond()) await new Promise((r) => setTimeout(r, 5));
  };
  for (let i = 0; i < parts.length; i += 100) {
    const batch = parts.slice(i, i + 100);
    for (const p of batch) p.start();
    await waitUntil(() => connected >= i + batch.length && acked >= i + batch.length);
  }
  process.stdout.write('READY\n');

  const loop = monitorEventLoopDelay({ resolution: 5 });
  for (;;) {
    const line = await next();
    const [cmd, a, b] = line.split(' ');
    if (cmd === 'QUIT' || cmd === undefined || cmd === '') break;
    loop.reset();
    loop.enable();
    const before = acked;
    const startedAt = Date.now();
    let published = 0;
    if (cmd === 'PACE') {
      const intervalMs = Number(a);
      const durationMs = Number(b);
      const perMs = parts.length / intervalMs;
      const total = Math.floor(durationMs * perMs);
      // Box k beats at startedAt + k / perMs: the boxes' phases spread evenly over the interval.
      while (published < total) {
        const due = Math.min(total, Math.floor((Date.now() - startedAt) * perMs) + 1);
        for (; published < due; published++) parts[published % parts.length]!.beat();
        await new Promise((r) => setTimeout(r, 2));
      }
    } else if (cmd === 'BURST') {
      const n = Number(a);
      for (let round = 0; round < n; round++) for (const p of parts) p.beat();
      published = n * parts.length;
    }
    await waitUntil(() => acked - before >= published);
    loop.disable();
    const result: FleetBoxesResult = {
      sent: acked - before,
      startedAt,
      lastAckAt,
      loadLoopDelayMs: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
    };
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  }
  for (let i = 0; i < parts.length; i += 200) await Promise.all(parts.slice(i, i + 200).map((p) => p.stop()));
  // The broker is the machine's shared Mosquitto (with persistence): leave no retained status behind.
  const cleaner = await mqtt.connectAsync(args.url, { reconnectPeriod: 0 });
  for (let i = 0; i < parts.length; i += 200)
    await Promise.all(
      parts
        .slice(i, i + 200)
        .map((_, k) =>
          cleaner.publishAsync(`${args.topicPrefix}/${boxIdOf(i + k)}/status`, '', { retain: true, qos: 1 }),
        ),
    );
  await cleaner.endAsync();
  process.exit(0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`fleet boxes process: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
