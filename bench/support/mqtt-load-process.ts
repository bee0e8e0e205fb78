import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { spawnLineChild, stdinLines } from './line-protocol.ts';

/**
 * The MQTT load of the broker bench, in its own process (publishers and subscriber are other devices:
 * they must not share the event loop of the broker under test). Logs every client in, waits for `GO`
 * on stdin, then each publisher sends `messages` QoS 1 messages of `bytes` bytes, at most `window`
 * unacknowledged at a time (a device waits for its PUBACKs), while one QoS 1 subscriber receives them
 * all; prints one JSON line: what was sent, what arrived (unique and duplicate), publish → deliver
 * latencies. Each payload carries its send time, publisher and sequence number, so a loss or a
 * duplicate is counted per message, not guessed from totals.
 */
export interface LoadClient {
  clientId: string;
  username?: string;
  password?: string;
}

export interface LoadArgs {
  url: string;
  publishers: Array<LoadClient & { topic: string }>;
  subscriber: LoadClient & { filter: string };
  messages: number;
  bytes: number;
  window: number;
  /** After the last PUBACK, how long the subscriber may go without a new message before the rest counts as lost. */
  idleMs: number;
}

export interface LoadResult {
  sent: number;
  acked: number;
  received: number;
  duplicates: number;
  /** GO → last PUBACK, and GO → last first-time delivery. */
  publishSeconds: number;
  deliverSeconds: number;
  latenciesMs: number[];
  loadLoopDelayMs: { p99: number; max: number };
}

export function spawnMqttLoad(args: LoadArgs) {
  const child = spawnLineChild(import.meta.url, 'MQTT load process');
  child.send(JSON.stringify(args));
  return {
    ready: () => child.nextLine('READY'),
    go: async (): Promise<LoadResult> => {
      child.send('GO');
      return JSON.parse(await child.nextLine('RESULT ')) as LoadResult;
    },
    quit: () => child.finish('QUIT'),
  };
}

/** Send time (float64, this process's clock), publisher, sequence number, round: the rest is filler. */
export const HEADER_BYTES = 20;

/** One login, retried on "server unavailable" (3) as a device does: the box's login defences say "later". */
async function login(url: string, c: LoadClient): Promise<MqttClient> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await mqtt.connectAsync(url, {
        clientId: c.clientId,
        ...(c.username === undefined ? {} : { username: c.username, password: c.password }),
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
      });
    } catch (err) {
      if ((err as { code?: number }).code !== 3 || attempt > 200) throw err;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Set when the load ends its own connections; any close before that is the broker's doing. */
let ending = false;

/** A refused publish or subscription disconnects the client (MQTT 3.1.1 has no negative PUBACK): fail loudly, never hang. */
function failOnClose(client: MqttClient, clientId: string): MqttClient {
  client.on('close', () => {
    if (ending) return;
    process.stderr.write(`MQTT load: the broker disconnected ${clientId}\n`);
    process.exit(1);
  });
  return client;
}

async function main(): Promise<void> {
  const nextInput = stdinLines();
  const args = JSON.parse(await nextInput()) as LoadArgs;
  const total = args.publishers.length * args.messages;
  let seen = new Uint8Array(total);
  let latencies: number[] = [];
  let received = 0;
  let duplicates = 0;
  let started = 0;
  let round = 0;
  let lastDelivery = 0;
  let onDelivery: (() => void) | null = null;

  const subscriber = failOnClose(await login(args.url, args.subscriber), args.subscriber.clientId);
  subscriber.on('message', (_topic, payload) => {
    const now = performance.now();
    // A late copy from an earlier round is not this round's delivery.
    if (payload.length < HEADER_BYTES || payload.readUInt32BE(16) !== round) return;
    const index = payload.readUInt32BE(8) * args.messages + payload.readUInt32BE(12);
    if (index >= total) return;
    if (seen[index] === 1) {
      duplicates++;
      return;
    }
    seen[index] = 1;
    received++;
    lastDelivery = now;
    latencies.push(now - payload.readDoubleBE(0));
    onDelivery?.();
  });
  const granted = await subscriber.subscribeAsync(args.subscriber.filter, { qos: 1 });
  if (granted[0]?.qos !== 1) {
    throw new Error(
      `subscription to ${args.subscriber.filter} not granted at QoS 1: ${JSON.stringify(granted)}`,
    );
  }
  const publishers: MqttClient[] = [];
  // A few logins at a time: the box checks scrypt passwords on a bounded queue (login defences).
  for (let i = 0; i < args.publishers.length; i += 4) {
    const batch = args.publishers.slice(i, i + 4);
    publishers.push(
      ...(await Promise.all(batch.map(async (p) => failOnClose(await login(args.url, p), p.clientId)))),
    );
  }
  process.stdout.write('READY\n');

  // Every GO is one round (the bench's first is a discarded warm-up).
  while ((await nextInput()) === 'GO') {
    round++;
    seen = new Uint8Array(total);
    latencies = [];
    received = 0;
    duplicates = 0;
    lastDelivery = 0;
    const filler = Buffer.alloc(Math.max(0, args.bytes - HEADER_BYTES), 0x5a);
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    let acked = 0;
    let sent = 0;
    started = performance.now();
    await Promise.all(
      publishers.map(async (client, p) => {
        const topic = args.publishers[p]?.topic ?? '';
        let next = 0;
        // `window` loops per publisher, each sending its next message once its last one is acknowledged.
        const lane = async () => {
          while (next < args.messages) {
            const seq = next++;
            const head = Buffer.alloc(HEADER_BYTES);
            head.writeDoubleBE(performance.now(), 0);
            head.writeUInt32BE(p, 8);
            head.writeUInt32BE(seq, 12);
            head.writeUInt32BE(round, 16);
            sent++;
            await client.publishAsync(topic, Buffer.concat([head, filler]), { qos: 1 });
            acked++;
          }
        };
        await Promise.all(Array.from({ length: args.window }, lane));
      }),
    );
    const publishSeconds = (performance.now() - started) / 1000;
    // Wait for the stragglers; a message not here after idleMs of silence is lost.
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        clearTimeout(timer);
        if (received >= total) resolve();
        else timer = setTimeout(resolve, args.idleMs);
      };
      onDelivery = arm;
      arm();
    });
    onDelivery = null;
    loop.disable();
    const result: LoadResult = {
      sent,
      acked,
      received,
      duplicates,
      publishSeconds,
      deliverSeconds: (lastDelivery - started) / 1000,
      latenciesMs: latencies,
      loadLoopDelayMs: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
    };
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  }
  ending = true;
  await Promise.all([...publishers, subscriber].map((c) => c.endAsync()));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`MQTT load: ${(err as Error).stack ?? String(err)}\n`);
    // Exit, not exitCode: stdin and the clients would keep the process, and the bench, waiting.
    process.exit(1);
  });
}
