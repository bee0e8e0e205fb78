import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import type { TelemetryHealth } from './telemetry-payload.ts';

/** The machine's Mosquitto (.ci/run starts it); SCENEWAY_TEST_MQTT_URL names another. */
export const TEST_MQTT_URL = process.env.SCENEWAY_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

/** A topic prefix of its own per test, so parallel runs on the one broker never see each other. */
export function uniqueTopicPrefix(what: string): string {
  return `sceneway-test/${what}-${randomBytes(5).toString('hex')}`;
}

/** A listening client that records every message under `filter`, to wait on. */
export async function recordTopics(url: string, filter: string) {
  const client: MqttClient = await new Promise((resolve, reject) => {
    const c = connect(url, { reconnectPeriod: 0, clean: true });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
  const messages: Array<{ topic: string; payload: unknown; retain: boolean }> = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    if (payload.length === 0) return; // a cleared retained message
    messages.push({ topic, payload: JSON.parse(payload.toString('utf8')), retain: packet.retain });
    for (const w of waiters) w();
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return {
    messages,
    /** Resolves with the first recorded message (from any time) matching; woken by each arrival. */
    next(match: (m: { topic: string; payload: unknown; retain: boolean }) => boolean, what: string) {
      return new Promise<{ topic: string; payload: unknown; retain: boolean }>((resolve, reject) => {
        const timeout = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no MQTT message: ${what}`));
        }, 30_000);
        const check = () => {
          const found = messages.find(match);
          if (!found) return;
          clearTimeout(timeout);
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => client.endAsync(),
  };
}

/** Clears retained messages a test left on the broker. */
export async function clearRetained(url: string, topics: string[]): Promise<void> {
  const client = await connect(url, { reconnectPeriod: 0 });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  for (const topic of topics) await client.publishAsync(topic, '', { retain: true, qos: 1 });
  await client.endAsync();
}

/** Health figures as a box in a given state reports them. */
export function healthOf(overrides: Partial<TelemetryHealth> = {}): TelemetryHealth {
  return {
    uptimeSeconds: 10,
    ledger: { depth: 0, oldestUnsyncedAgeSeconds: null, headSeq: 0, lastSyncedSeq: 0 },
    sync: { state: 'idle', consecutiveFailures: 0, lastErrorCode: null, stoppedByRejectedBatch: false },
    terminals: [{ id: 'till-1', driver: 'canteen-pos', up: true, firmware: 'POS-2.4.1' }],
    diskFreeMb: 10_000,
    clockDriftMs: 0,
    cpu: { load1: 0.5, cores: 2, processPercent: 1 },
    memory: { rssMb: 80, systemFreeMb: 1000, systemTotalMb: 4000 },
    ...overrides,
  };
}

/**
 * A TCP relay to the broker whose line the test can cut (both sockets destroyed, the port closed, as a
 * pulled uplink cable or a dead box looks to the broker) and restore on the same port.
 */
export async function startCuttableRelay(target: { host: string; port: number }) {
  const { createServer, connect: tcpConnect } = await import('node:net');
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer((inbound) => {
    const outbound = tcpConnect(target.port, target.host);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  const port = await listen(0);
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async cut(): Promise<void> {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
    restore: () => listen(port).then(() => undefined),
    close: async () => {
      for (const s of sockets) s.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
