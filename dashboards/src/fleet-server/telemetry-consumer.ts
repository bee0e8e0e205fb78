import { randomBytes } from 'node:crypto';
import {
  type TelemetryHeartbeat,
  type TelemetryStatus,
  telemetryHeartbeatSchema,
  telemetryStatusSchema,
} from '@sceneway/gateway-agent';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';

export interface ConsumerOptions {
  url: string;
  username?: string;
  password?: string;
  ca?: Buffer;
  topicPrefix: string;
  /**
   * Replicas with the same group split the messages ($share/<group>/..., MQTT 5). null: one replica
   * with a plain subscription over MQTT 3.1.1, for a broker without shared subscriptions (the demo's
   * embedded aedes speaks 3.1.1 only and has no $share); it then also gets the retained statuses.
   */
  shareGroup: string | null;
  logger: Logger;
  onMessage(message: ConsumedMessage): Promise<void>;
  onRejected(kind: string, reason: string): void;
}

export type ConsumedMessage =
  | { kind: 'status'; status: TelemetryStatus }
  | { kind: 'heartbeat'; heartbeat: TelemetryHeartbeat };

/**
 * Reads the boxes' telemetry through an MQTT shared subscription, so each message goes to one replica of
 * the group. Retained statuses are not delivered to shared subscriptions (MQTT 5 §4.8.2): a replica that
 * starts learns box state from the store and the next heartbeats, not from the broker. A box's
 * messages are handled one at a time, in arrival order; different boxes in parallel. A payload whose box id differs from its topic's is
 * refused: with a broker ACL per box on its topic, a box cannot speak for another.
 */
export async function startTelemetryConsumer(options: ConsumerOptions): Promise<{ close(): Promise<void> }> {
  const { logger } = options;
  const topicRe = new RegExp(`^${escapeRegExp(options.topicPrefix)}/([^/]+)/(heartbeat|status)$`);
  const clientOptions: IClientOptions = {
    clientId: `sceneway-fleet-${options.shareGroup ?? 'solo'}-${randomBytes(4).toString('hex')}`,
    protocolVersion: options.shareGroup === null ? 4 : 5,
    clean: true,
    reconnectPeriod: 2000,
    ...(options.username ? { username: options.username } : {}),
    ...(options.password ? { password: options.password } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
  };
  const client: MqttClient = connect(options.url, clientOptions);
  client.on('error', (err) => logger.warn({ err: err.message }, 'fleet broker connection error'));
  // One chain per box (by topic): a box's messages are handled in arrival order, different boxes in
  // parallel, so the store's round trips do not serialise the whole fleet behind one box.
  const chains = new Map<string, Promise<void>>();
  client.on('message', (topic, payload) => {
    const key = topic.slice(options.topicPrefix.length + 1).split('/')[0] ?? '';
    const next = (chains.get(key) ?? Promise.resolve())
      .then(() => handle(topic, payload))
      .catch((err) =>
        logger.error({ err: (err as Error).message, topic }, 'storing a telemetry message failed'),
      );
    chains.set(key, next);
    void next.then(() => {
      if (chains.get(key) === next) chains.delete(key);
    });
  });
  const handle = async (topic: string, payload: Buffer) => {
    const match = topicRe.exec(topic);
    if (!match || payload.length === 0) return;
    const [, boxId, kind] = match as unknown as [string, string, 'heartbeat' | 'status'];
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return options.onRejected(kind, 'not-json');
    }
    if (kind === 'status') {
      const parsed = telemetryStatusSchema.safeParse(json);
      if (!parsed.success) return options.onRejected(kind, 'schema');
      if (parsed.data.boxId !== boxId) return options.onRejected(kind, 'box-mismatch');
      return options.onMessage({ kind, status: parsed.data });
    }
    const parsed = telemetryHeartbeatSchema.safeParse(json);
    if (!parsed.success) return options.onRejected(kind, 'schema');
    if (parsed.data.boxId !== boxId) return options.onRejected(kind, 'box-mismatch');
    return options.onMessage({ kind, heartbeat: parsed.data });
  };
  const share = options.shareGroup === null ? '' : `$share/${options.shareGroup}/`;
  const filters = ['heartbeat', 'status'].map((k) => `${share}${options.topicPrefix}/+/${k}`);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  // Resubscribed by mqtt.js after each reconnect (clean sessions).
  await client.subscribeAsync(filters, { qos: 1 });
  return {
    async close() {
      await client.endAsync();
      await Promise.all(chains.values());
    },
  };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
