import { type BackoffPolicy, type Clock, fullJitterDelay, sleep } from '@sceneway/core';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { AgentPart } from '../lifecycle.ts';
import type { Logger } from '../logger.ts';
import { createOfflineSummary } from './offline-summary.ts';
import {
  TELEMETRY_VERSION,
  type TelemetryHealth,
  type TelemetryStatus,
  telemetryHeartbeatSchema,
  telemetryStatusSchema,
  telemetryTopics,
} from './telemetry-payload.ts';

export interface TelemetryLinkConfig {
  url: string;
  username?: string;
  password?: string;
  /** PEM CA for mqtts:// / wss:// to a broker with a private CA. */
  ca?: Buffer;
  intervalSeconds: number;
  topicPrefix: string;
}

export type TelemetryEvent =
  | { type: 'connected'; session: number }
  | { type: 'disconnected'; session: number }
  | { type: 'heartbeat-sent'; session: number; seq: number }
  | { type: 'heartbeat-missed'; missed: number };

export interface TelemetryPartOptions {
  link: TelemetryLinkConfig;
  boxId: string;
  siteId: string;
  agentVersion: string;
  health: () => TelemetryHealth;
  clock: Pick<Clock, 'now'>;
  logger: Logger;
  /** Reconnect delays: exponential with full jitter (core backoff), capped. */
  backoff?: BackoffPolicy;
  onEvent?: (event: TelemetryEvent) => void;
  /**
   * Where the last session number survives a restart. Sessions start from the box clock, which may be
   * stepped back (NTP correcting a clock that ran ahead): without the stored number a box would come
   * back with sessions the fleet takes for stale, and stay invisible until the clock caught up.
   */
  sessions?: { load(): number; save(session: number): void };
}

export interface TelemetryPart extends AgentPart {
  /** Sends a heartbeat now (or folds it into the offline summary); the timer calls the same. */
  beat(): void;
  connected(): boolean;
}

/**
 * The uplink to the fleet broker (issue #14). One connection per session: each connect carries a fresh
 * last will (retained "offline" with that session), so the broker announces a dead box by itself, and a
 * fleet server can tell a late will of an old session from the box's current state. mqtt.js's own
 * reconnect is off (it retries at a fixed period): a site that lost power reconnects every box at once,
 * so the delays here are exponential with full jitter instead. Heartbeats are never queued while the link
 * is down (offline-summary.ts).
 */
export function createTelemetryPart(options: TelemetryPartOptions): TelemetryPart {
  const { link, logger } = options;
  const topics = telemetryTopics(link.topicPrefix, options.boxId);
  const backoff = options.backoff ?? { initialDelayMs: 1000, maxDelayMs: 120_000 };
  const where = brokerName(link.url);
  const summary = createOfflineSummary();
  let current: { client: MqttClient; session: number; seq: number } | null = null;
  let lastSession = 0;
  let abort = new AbortController();
  let loop: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let missed = 0;

  const status = (
    session: number,
    state: TelemetryStatus['state'],
    reason: TelemetryStatus['reason'],
    at: number,
  ) =>
    JSON.stringify(
      telemetryStatusSchema.parse({
        v: TELEMETRY_VERSION,
        boxId: options.boxId,
        siteId: options.siteId,
        state,
        reason,
        session,
        at,
        agentVersion: options.agentVersion,
      }),
    );

  const clientOptions = (session: number): IClientOptions => ({
    clientId: `sceneway-box-${options.boxId}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 15_000,
    keepalive: Math.min(Math.max(link.intervalSeconds * 2, 10), 600),
    ...(link.username ? { username: link.username } : {}),
    ...(link.password ? { password: link.password } : {}),
    ...(link.ca ? { ca: link.ca } : {}),
    will: {
      topic: topics.status,
      payload: Buffer.from(status(session, 'offline', 'last-will', options.clock.now())),
      qos: 1,
      retain: true,
    },
  });

  const beat = () => {
    let health: TelemetryHealth;
    try {
      health = options.health();
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'telemetry: reading the health figures failed');
      return;
    }
    const now = options.clock.now();
    const link = current;
    if (!link) {
      summary.miss(now, health);
      options.onEvent?.({ type: 'heartbeat-missed', missed: ++missed });
      return;
    }
    const offline = summary.take();
    missed = 0;
    const parsed = telemetryHeartbeatSchema.safeParse({
      v: TELEMETRY_VERSION,
      boxId: options.boxId,
      siteId: options.siteId,
      session: link.session,
      seq: ++link.seq,
      sentAt: now,
      agentVersion: options.agentVersion,
      health,
      offline,
    });
    if (!parsed.success) {
      logger.error(
        { issue: parsed.error.issues[0]?.path.join('.') },
        'telemetry: heartbeat out of schema; not sent',
      );
      return;
    }
    const seq = link.seq;
    link.client.publish(topics.heartbeat, JSON.stringify(parsed.data), { qos: 1 }, (err) => {
      if (!err) options.onEvent?.({ type: 'heartbeat-sent', session: link.session, seq });
    });
  };

  const connectOnce = (session: number, signal: AbortSignal) =>
    new Promise<MqttClient | null>((resolve) => {
      const client = connect(link.url, clientOptions(session));
      // Every error also closes the connection (reconnectPeriod 0); the listener keeps it from crashing the process.
      client.on('error', (err) =>
        logger.warn({ broker: where, err: err.message }, 'telemetry: uplink error'),
      );
      const fail = () => {
        client.end(true);
        resolve(null);
      };
      client.once('connect', () => {
        client.off('close', fail);
        signal.removeEventListener('abort', fail);
        resolve(client);
      });
      client.once('close', fail);
      signal.addEventListener('abort', fail, { once: true });
    });

  const run = async (signal: AbortSignal) => {
    for (let attempt = 1; !signal.aborted; ) {
      const session = Math.max(lastSession + 1, Math.floor(options.clock.now()));
      lastSession = session;
      try {
        options.sessions?.save(session);
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'telemetry: saving the session number failed');
      }
      const client = await connectOnce(session, signal);
      if (client) {
        attempt = 1;
        const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
        current = { client, session, seq: 0 };
        logger.info({ broker: where, session }, 'telemetry: uplink connected');
        client.publish(topics.status, status(session, 'online', 'connected', options.clock.now()), {
          qos: 1,
          retain: true,
        });
        options.onEvent?.({ type: 'connected', session });
        beat();
        await closed;
        current = null;
        client.end(true);
        options.onEvent?.({ type: 'disconnected', session });
        if (signal.aborted) return;
        logger.warn({ broker: where, session }, 'telemetry: uplink lost; reconnecting with backoff');
      }
      if (!(await sleep(fullJitterDelay(backoff, attempt++), signal))) return;
    }
  };

  return {
    name: 'telemetry',
    start() {
      try {
        lastSession = Math.max(lastSession, options.sessions?.load() ?? 0);
      } catch (err) {
        logger.warn({ err: (err as Error).message }, 'telemetry: reading the last session number failed');
      }
      abort = new AbortController();
      loop = run(abort.signal).catch((err) =>
        logger.error({ err: (err as Error).message }, 'telemetry: uplink loop failed'),
      );
      timer = setInterval(beat, link.intervalSeconds * 1000);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      abort.abort();
      const link = current;
      current = null;
      if (link) {
        // A clean disconnect sends no will: say "offline" ourselves, retained, before leaving.
        await new Promise<void>((resolve) =>
          link.client.publish(
            topics.status,
            status(link.session, 'offline', 'stopped', options.clock.now()),
            { qos: 1, retain: true },
            () => resolve(),
          ),
        );
        await link.client.endAsync().catch(() => undefined);
      }
      await loop;
      loop = null;
    },
    beat,
    connected: () => current !== null,
  };
}

/** Host and port only: a URL may carry credentials (mqtt://user:pass@host), which never reach a log. */
function brokerName(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'unparsable url';
  }
}
