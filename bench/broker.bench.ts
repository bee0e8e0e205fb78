import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Aedes } from 'aedes';
import { hashPassword } from '../gateway-agent/src/broker/password-hash.ts';
import { BROKER_DEFAULTS, startTerminalBroker } from '../gateway-agent/src/broker/terminal-broker.ts';
import { silentLogger } from '../gateway-agent/src/logger.ts';
import { HEADER_BYTES, type LoadArgs, type LoadResult, spawnMqttLoad } from './support/mqtt-load-process.ts';

/**
 * The embedded broker against the machine's Mosquitto (issue #13): the same QoS 1 load, in the same
 * run, from mqtt.js clients in their own process. On the box, PUBLISHERS terminals each send MESSAGES
 * messages of BYTES bytes to their own prefix (sceneway/t/<id>/bench, allowed by the terminal's ACL,
 * checked on every publish) and one service identity subscribed to sceneway/t/+/bench receives them
 * all: both logins (scrypt), both ACL paths and the box's connection gate and frame guard, as
 * startAgent starts the broker. On Mosquitto (anonymous, loopback) the same topics live under a fresh
 * prefix so no other run's subscriber sees them. Each broker gets a warm-up round first (discarded).
 */
const PUBLISHERS = Number(process.env.BENCH_BROKER_PUBLISHERS ?? 20);
const MESSAGES = Number(process.env.BENCH_BROKER_MESSAGES ?? 2000);
const BYTES = Math.max(HEADER_BYTES, Number(process.env.BENCH_BROKER_BYTES ?? 256));
/** Unacknowledged QoS 1 publishes each publisher keeps in flight. */
const WINDOW = Number(process.env.BENCH_BROKER_WINDOW ?? 10);
const IDLE_MS = Number(process.env.BENCH_BROKER_IDLE_MS ?? 5000);
const MOSQUITTO_URL = process.env.BENCH_BROKER_MOSQUITTO_URL ?? 'mqtt://127.0.0.1:1883';
const WARMUP_MESSAGES = Math.min(MESSAGES, 200);

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

interface BrokerFigures {
  sent: number;
  received: number;
  lost: number;
  duplicates: number;
  deliveredPerSec: number;
  publishAckedPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  loadLoopDelayMs: LoadResult['loadLoopDelayMs'];
  brokerLoopDelayMs?: { p99: number; max: number };
}

function figures(r: LoadResult): BrokerFigures {
  const sorted = [...r.latenciesMs].sort((a, b) => a - b);
  return {
    sent: r.sent,
    received: r.received,
    lost: r.sent - r.received,
    duplicates: r.duplicates,
    deliveredPerSec: r.received / r.deliverSeconds,
    publishAckedPerSec: r.acked / r.publishSeconds,
    latencyMs: {
      p50: pct(sorted, 50),
      p90: pct(sorted, 90),
      p99: pct(sorted, 99),
      max: sorted.at(-1) ?? Number.NaN,
    },
    loadLoopDelayMs: r.loadLoopDelayMs,
  };
}

/** A warm-up round, then the measured one, on one broker; the load process is started and ended here. */
async function measure(
  args: Omit<LoadArgs, 'messages'>,
  onMeasured?: () => () => BrokerFigures['brokerLoopDelayMs'],
) {
  const warm = spawnMqttLoad({ ...args, messages: WARMUP_MESSAGES });
  await warm.ready();
  await warm.go();
  await warm.quit();
  const load = spawnMqttLoad({ ...args, messages: MESSAGES });
  try {
    await load.ready();
    const stop = onMeasured?.();
    const r = figures(await load.go());
    const brokerLoop = stop?.();
    return brokerLoop ? { ...r, brokerLoopDelayMs: brokerLoop } : r;
  } finally {
    await load.quit();
  }
}

async function embedded(): Promise<BrokerFigures> {
  const publishers = Array.from({ length: PUBLISHERS }, (_, i) => ({
    id: `bench-pub-${i}`,
    password: `bench publisher ${i} secret`,
  }));
  const sink = { username: 'bench-sink', password: 'bench sink secret pw' };
  // The options startAgent passes (agent.ts), from a config with these terminals and one service.
  const broker = await startTerminalBroker({
    terminals: publishers.map((p) => ({
      id: p.id,
      username: p.id,
      passwordHash: hashPassword(p.password),
      publish: ['bench'],
      subscribe: ['cmd'],
    })),
    services: [
      {
        username: sink.username,
        passwordHash: hashPassword(sink.password),
        publish: [],
        subscribe: ['sceneway/t/+/bench'],
      },
    ],
    tcp: { host: '127.0.0.1', port: 0 },
    logger: silentLogger,
    // What the agent does with a terminal's message (the event router) is not the broker's cost.
    onTerminalMessage: () => {},
    maxPacketBytes: BROKER_DEFAULTS.maxPacketBytes,
    maxConnections: BROKER_DEFAULTS.maxConnections,
    // Every client of this bench is on 127.0.0.1; a site has one address per reader.
    maxConnectionsPerAddress: PUBLISHERS + 16,
    newAddressConnectsPerSecond: BROKER_DEFAULTS.newAddressConnectsPerSecond,
  });
  try {
    const { host, port } = broker.tcpAddress;
    return await measure(
      {
        url: `mqtt://${host}:${port}`,
        publishers: publishers.map((p, i) => ({
          clientId: `${p.id}:${i}`,
          username: p.id,
          password: p.password,
          topic: `sceneway/t/${p.id}/bench`,
        })),
        subscriber: {
          clientId: `${sink.username}:bench`,
          username: sink.username,
          password: sink.password,
          filter: 'sceneway/t/+/bench',
        },
        bytes: BYTES,
        window: WINDOW,
        idleMs: IDLE_MS,
      },
      () => {
        const loop = monitorEventLoopDelay({ resolution: 5 });
        loop.enable();
        return () => {
          loop.disable();
          return { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
        };
      },
    );
  } finally {
    await broker.close();
  }
}

/**
 * Stock aedes on a plain listener, no hooks at all: not a box configuration (it would let anyone in),
 * only the reference that splits the gap to Mosquitto into aedes' own cost and the box's guards.
 */
async function bareAedes(): Promise<BrokerFigures> {
  const aedes = await Aedes.createBroker();
  const server = createServer((socket) => aedes.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('bare aedes: no TCP address');
  try {
    return await measure({
      url: `mqtt://127.0.0.1:${address.port}`,
      publishers: Array.from({ length: PUBLISHERS }, (_, i) => ({
        clientId: `bench-pub-${i}`,
        topic: `sceneway/t/bench-pub-${i}/bench`,
      })),
      subscriber: { clientId: 'bench-sink', filter: 'sceneway/t/+/bench' },
      bytes: BYTES,
      window: WINDOW,
      idleMs: IDLE_MS,
    });
  } finally {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function mosquitto(): Promise<BrokerFigures> {
  // A fresh prefix: Mosquitto is the machine's, other runs and engineers may use it at the same time.
  const prefix = `sceneway-bench/${randomUUID()}`;
  return measure({
    url: MOSQUITTO_URL,
    publishers: Array.from({ length: PUBLISHERS }, (_, i) => ({
      clientId: `sceneway-bench-${process.pid}-pub-${i}`,
      topic: `${prefix}/t/bench-pub-${i}/bench`,
    })),
    subscriber: { clientId: `sceneway-bench-${process.pid}-sink`, filter: `${prefix}/t/+/bench` },
    bytes: BYTES,
    window: WINDOW,
    idleMs: IDLE_MS,
  });
}

export async function run(): Promise<Record<string, unknown>> {
  const aedes = await embedded();
  const mosq = await mosquitto();
  const bare = await bareAedes();
  const ratio = {
    deliveredPerSec: aedes.deliveredPerSec / mosq.deliveredPerSec,
    bareAedesDeliveredPerSec: bare.deliveredPerSec / mosq.deliveredPerSec,
    p50: aedes.latencyMs.p50 / mosq.latencyMs.p50,
    p99: aedes.latencyMs.p99 / mosq.latencyMs.p99,
  };
  const result = {
    load: {
      publishers: PUBLISHERS,
      messagesPerPublisher: MESSAGES,
      bytes: BYTES,
      qos: 1,
      inFlightPerPublisher: WINDOW,
      warmupMessagesPerPublisher: WARMUP_MESSAGES,
    },
    aedes,
    mosquitto: { url: MOSQUITTO_URL, ...mosq },
    /** Stock aedes without the box's logins, ACLs and guards: the reference, not a configuration. */
    bareAedes: bare,
    ratioAedesToMosquitto: ratio,
  };
  const cols = (f: (b: BrokerFigures) => string, r = '') => [f(aedes), f(mosq), r, f(bare)];
  const rows: Array<[string, string[]]> = [
    ['', ['aedes (box)', 'mosquitto', 'aedes/mosq', 'bare aedes']],
    ['sent', cols((b) => String(b.sent))],
    ['received (unique)', cols((b) => String(b.received))],
    ['lost', cols((b) => String(b.lost))],
    ['duplicates', cols((b) => String(b.duplicates))],
    ['delivered msgs/s', cols((b) => b.deliveredPerSec.toFixed(0), ratio.deliveredPerSec.toFixed(2))],
    ['publish -> deliver p50 (ms)', cols((b) => b.latencyMs.p50.toFixed(2), ratio.p50.toFixed(2))],
    ['publish -> deliver p99 (ms)', cols((b) => b.latencyMs.p99.toFixed(2), ratio.p99.toFixed(2))],
  ];
  process.stdout.write(
    `${PUBLISHERS} publishers x ${MESSAGES} msgs x ${BYTES} B, QoS 1, ${WINDOW} in flight each\n`,
  );
  for (const [label, values] of rows) {
    process.stdout.write(`${label.padEnd(30)}${values.map((v) => v.padStart(13)).join('')}\n`);
  }
  return result;
}
