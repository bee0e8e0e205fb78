import { fullJitterDelay, maskTail, sleep } from '@sceneway/core';
import type {
  AccessDecision,
  DriverContext,
  DriverInstance,
  PlateSighting,
  TerminalEventOf,
} from '../driver-api.ts';
import { DriverError } from '../driver-error.ts';
import type { HttpTransport } from '../transport.ts';
import { createOnvifFirmware } from './firmware-delivery.ts';
import { classify, OnvifConnection } from './onvif-client.ts';
import { type PlateRead, parseNotification } from './plate-event.ts';
import type { OnvifCameraConfig } from './schema.ts';

/**
 * One ONVIF plate camera at one lane. A connection is: connect (device time, services, profiles),
 * device information, the snapshot URI, a pull-point subscription; then a PullMessages loop that
 * renews the subscription when half its lease is gone. A fault on a pull or a renew means the camera
 * no longer knows the subscription (it rebooted, or let it lapse: the most common ONVIF failure), so
 * the driver subscribes again at once; a network error or silence ends the connection and the driver
 * reconnects with backoff. Each plate is a `PlateSighted` event; the barrier relay is switched only
 * when the scenario answers `open`. Topics other than the two plate topics are logged once each.
 */
const MAX_INVALID_IN_A_ROW = 3;
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function createOnvifCameraSession(ctx: DriverContext, config: OnvifCameraConfig): DriverInstance {
  const terminalId = config.id;
  const policy = { initialDelayMs: config.reconnect.initialDelayMs, maxDelayMs: config.reconnect.maxDelayMs };
  const unknownTopics = new Set<string>();
  const pulseTimers = new Set<NodeJS.Timeout>();
  let abort: AbortController | null = null;
  let loop: Promise<void> | null = null;
  let connection: OnvifConnection | null = null;
  let http: HttpTransport | null = null;
  // Pull points made so far, and who waits for the next one (a firmware install, after the reboot).
  let subscriptionCount = 0;
  const subscriptionWaiters = new Set<() => void>();
  // Aborted to cut a reconnect backoff short once the camera is known to be back.
  let backoffCut = new AbortController();
  const subscribedOnce = () => {
    subscriptionCount++;
    for (const waiter of [...subscriptionWaiters]) waiter();
  };

  const report = (event: TerminalEventOf<'TerminalStatus' | 'FrameRejected' | 'TerminalAlert'>) => {
    ctx
      .submit(event)
      .catch((error: unknown) =>
        ctx.logger.error({ terminalId, err: errorText(error) }, 'onvif camera: status event refused'),
      );
  };

  async function snapshot(conn: OnvifConnection): Promise<Uint8Array | undefined> {
    if (!config.snapshot || !conn.snapshotUri || !http) return undefined;
    try {
      const url = new URL(conn.snapshotUri);
      const answer = await http.request('GET', `${url.pathname}${url.search}`, {
        signal: AbortSignal.timeout(config.snapshotTimeoutMs),
      });
      if (answer.status !== 200 || answer.body[0] !== 0xff || answer.body[1] !== 0xd8) {
        ctx.logger.warn({ terminalId, status: answer.status }, 'onvif camera: snapshot is no JPEG; skipped');
        return undefined;
      }
      return answer.body;
    } catch (error) {
      ctx.logger.warn({ terminalId, code: classify(error).code }, 'onvif camera: snapshot skipped');
      return undefined;
    }
  }

  async function openBarrier(conn: OnvifConnection, signal: AbortSignal): Promise<void> {
    await conn.setRelay(config.relayToken, 'active');
    if (config.relayPulseMs <= 0) return;
    const timer = setTimeout(() => {
      pulseTimers.delete(timer);
      if (signal.aborted) return;
      conn.setRelay(config.relayToken, 'inactive').catch((error: unknown) => {
        ctx.logger.warn({ terminalId, code: classify(error).code }, 'onvif camera: relay release failed');
      });
    }, config.relayPulseMs);
    pulseTimers.add(timer);
  }

  /**
   * The picture is taken once the barrier has its command: the car is still at the lane, and neither
   * the decision nor the relay waits for (or competes with) a JPEG download.
   */
  function sendSnapshot(conn: OnvifConnection, eventId: string, signal: AbortSignal): void {
    snapshot(conn)
      .then((jpeg) =>
        jpeg && !signal.aborted
          ? ctx.submit({ type: 'PlateSnapshotTaken', terminalId, eventId, jpeg })
          : undefined,
      )
      .catch((error: unknown) =>
        ctx.logger.warn({ terminalId, err: errorText(error) }, 'onvif camera: snapshot not taken'),
      );
  }

  async function handlePlate(conn: OnvifConnection, read: PlateRead, signal: AbortSignal): Promise<void> {
    // The camera's ObjectId names the event; without one, its time and plate do (a replay repeats both).
    const eventId = `${terminalId}:${read.objectId ?? `${read.at ?? ctx.clock.now()}:${read.plate}`}`;
    try {
      await decideAndSwitch(conn, read, eventId, signal);
    } finally {
      if (config.snapshot) sendSnapshot(conn, eventId, signal);
    }
  }

  async function decideAndSwitch(
    conn: OnvifConnection,
    read: PlateRead,
    eventId: string,
    signal: AbortSignal,
  ): Promise<void> {
    const masked = maskTail(read.plate);
    const sighting: PlateSighting = {
      eventId,
      plate: read.plate,
      confidence: read.confidence,
      lane: config.lane,
      at: read.at ?? ctx.clock.now(),
      ...(read.plateType ? { plateType: read.plateType } : {}),
      ...(read.countryCode ? { countryCode: read.countryCode } : {}),
    };
    let decision: AccessDecision;
    try {
      decision = await ctx.submit({ type: 'PlateSighted', terminalId, sighting });
    } catch (error) {
      // No decision, no barrier: the lane stays closed and an operator can open it by hand.
      ctx.logger.error({ terminalId, plate: masked, err: errorText(error) }, 'onvif camera: no decision');
      return;
    }
    if (signal.aborted || decision.outcome !== 'open') {
      ctx.logger.info(
        { terminalId, plate: masked, reason: decision.outcome === 'deny' ? decision.reason : 'stopped' },
        'onvif camera: barrier stays closed',
      );
      return;
    }
    try {
      await openBarrier(conn, signal);
      ctx.logger.info({ terminalId, plate: masked }, 'onvif camera: barrier opened');
    } catch (error) {
      const e = classify(error);
      ctx.logger.error({ terminalId, plate: masked, code: e.code }, 'onvif camera: barrier did not open');
      report({
        type: 'TerminalAlert',
        terminalId,
        code: 'ONVIF_RELAY_FAILED',
        severity: 'critical',
        detail: `the barrier relay ${config.relayToken} did not switch: ${e.message}`,
      });
    }
  }

  function onMessages(conn: OnvifConnection, messages: Record<string, unknown>[], signal: AbortSignal): void {
    for (const message of messages) {
      const parsed = parseNotification(message);
      if (parsed.kind === 'unknown-topic') {
        if (!unknownTopics.has(parsed.topic)) {
          unknownTopics.add(parsed.topic);
          ctx.logger.warn({ terminalId, topic: parsed.topic.slice(0, 200) }, 'onvif camera: topic ignored');
        }
        continue;
      }
      if (parsed.kind === 'invalid') {
        ctx.logger.warn({ terminalId, code: 'ONVIF_EVENT_INVALID' }, parsed.why);
        report({ type: 'FrameRejected', terminalId, code: 'ONVIF_EVENT_INVALID', detail: parsed.why });
        continue;
      }
      // Plates of one pull are handled side by side: a slow decision on one lane holds up no other car.
      handlePlate(conn, parsed.read, signal).catch((error: unknown) =>
        ctx.logger.error({ terminalId, err: errorText(error) }, 'onvif camera: plate handling failed'),
      );
    }
  }

  /** Pulls until the connection fails; resubscribes in place when the camera forgot the subscription. */
  async function pullLoop(
    conn: OnvifConnection,
    signal: AbortSignal,
    subscribed: () => void,
  ): Promise<never> {
    let terminationAt = await conn.subscribe();
    subscribedOnce();
    subscribed();
    let lease = Math.max(terminationAt - Date.now(), 0);
    let invalidInARow = 0;
    const resubscribe = async (why: string) => {
      ctx.logger.warn({ terminalId, why }, 'onvif camera: subscription lost; subscribing again');
      terminationAt = await conn.subscribe();
      subscribedOnce();
      lease = Math.max(terminationAt - Date.now(), 0);
    };
    for (;;) {
      if (signal.aborted) throw new DriverError('ONVIF_UNREACHABLE', 'stopped');
      if (terminationAt - Date.now() < lease / 2) {
        try {
          terminationAt = await conn.renew();
          lease = Math.max(terminationAt - Date.now(), 0);
        } catch (error) {
          const e = classify(error);
          if (e.code !== 'ONVIF_FAULT') throw e;
          await resubscribe(e.message);
        }
      }
      let pulled: Awaited<ReturnType<OnvifConnection['pull']>>;
      try {
        pulled = await conn.pull(config.silenceTimeoutMs);
      } catch (error) {
        // stop() unsubscribes while a pull is pending: its fault is the end, not a lost subscription.
        if (signal.aborted) throw new DriverError('ONVIF_UNREACHABLE', 'stopped');
        const e = classify(error);
        if (e.code === 'ONVIF_FAULT') {
          await resubscribe(e.message);
          continue;
        }
        if (e.code === 'ONVIF_RESPONSE_INVALID' && ++invalidInARow < MAX_INVALID_IN_A_ROW) {
          report({ type: 'FrameRejected', terminalId, code: e.code, detail: e.message.slice(0, 200) });
          continue;
        }
        throw e;
      }
      invalidInARow = 0;
      terminationAt = pulled.terminationAt;
      if (signal.aborted) throw new DriverError('ONVIF_UNREACHABLE', 'stopped');
      onMessages(conn, pulled.messages, signal);
    }
  }

  async function run(signal: AbortSignal): Promise<void> {
    // Widened on purpose: the callbacks below change it, which flow analysis does not see.
    let state = 'unknown' as 'unknown' | 'up' | 'down';
    let attempt = 0;
    const down = (error: DriverError) => {
      const reason = `${error.code}: ${error.message}`.slice(0, 300);
      if (state !== 'down') {
        ctx.logger.warn({ terminalId, code: error.code }, 'onvif camera down');
        report({ type: 'TerminalStatus', terminalId, up: false, detail: reason });
        if (error.code === 'ONVIF_AUTH_REFUSED') {
          report({
            type: 'TerminalAlert',
            terminalId,
            code: 'ONVIF_AUTH_REFUSED',
            severity: 'critical',
            detail: `the camera refused user "${config.username}": check ${config.passwordEnv} and the camera's clock`,
          });
        }
      }
      state = 'down';
    };
    const password = process.env[config.passwordEnv];
    while (!signal.aborted) {
      if (!password) {
        down(
          new DriverError('ONVIF_PASSWORD_MISSING', `environment variable ${config.passwordEnv} is not set`),
        );
        if (!(await sleep(policy.maxDelayMs, signal))) break;
        continue;
      }
      const conn = new OnvifConnection({
        deviceUrl: config.deviceUrl,
        username: config.username,
        password,
        requestTimeoutMs: config.requestTimeoutMs,
      });
      connection = conn;
      try {
        const { model } = await conn.connect();
        if (config.snapshot) {
          await conn.loadSnapshotUri().catch((error: unknown) => {
            ctx.logger.warn({ terminalId, code: classify(error).code }, 'onvif camera: no snapshot URI');
          });
        }
        if (signal.aborted) break;
        // Up once the first subscription exists: from then on no plate is missed for want of one.
        await pullLoop(conn, signal, () => {
          attempt = 0;
          if (state === 'up') return;
          state = 'up';
          ctx.logger.info({ terminalId }, 'onvif camera up');
          report({ type: 'TerminalStatus', terminalId, up: true, detail: `${model}, ${config.lane} lane` });
        });
      } catch (error) {
        if (signal.aborted) break;
        down(classify(error));
      } finally {
        conn.close();
        connection = null;
      }
      if (backoffCut.signal.aborted) backoffCut = new AbortController();
      const delay = fullJitterDelay(policy, ++attempt);
      await sleep(delay, AbortSignal.any([signal, backoffCut.signal]));
      if (signal.aborted) break;
    }
    if (state === 'up') report({ type: 'TerminalStatus', terminalId, up: false, detail: 'driver stopped' });
  }

  const firmware = createOnvifFirmware({
    config,
    transports: ctx.transports,
    logger: ctx.logger,
    session: {
      subscriptions: () => subscriptionCount,
      subscribedBeyond(count, waitSignal) {
        if (!loop || !abort) return null;
        // A session stopped meanwhile ends the wait too: no pull point will come.
        const signal = AbortSignal.any([waitSignal, abort.signal]);
        return new Promise<void>((resolve, reject) => {
          const check = () => {
            if (subscriptionCount <= count) return;
            subscriptionWaiters.delete(check);
            resolve();
          };
          subscriptionWaiters.add(check);
          signal.addEventListener(
            'abort',
            () => {
              subscriptionWaiters.delete(check);
              reject(signal.reason);
            },
            { once: true },
          );
          check();
        });
      },
      reconnectNow: () => backoffCut.abort(),
    },
  });

  return {
    firmware,
    async start() {
      if (loop || ctx.signal.aborted) return;
      const controller = new AbortController();
      abort = controller;
      ctx.signal.addEventListener('abort', () => controller.abort(), { once: true });
      const origin = new URL(config.deviceUrl).origin;
      loop = (async () => {
        http = await ctx.transports.open(
          {
            kind: 'http',
            baseUrl: origin,
            timeoutMs: config.snapshotTimeoutMs,
            maxResponseBytes: 4 * 1024 * 1024,
          },
          controller.signal,
        );
        await run(controller.signal);
      })().catch((error: unknown) => {
        ctx.logger.error({ terminalId, err: errorText(error) }, 'onvif camera loop failed');
      });
    },
    async stop() {
      if (!loop) return;
      abort?.abort();
      for (const t of pulseTimers) clearTimeout(t);
      pulseTimers.clear();
      const conn = connection;
      if (conn) {
        await conn.unsubscribe();
        conn.close();
      }
      await loop;
      await http?.close();
      http = null;
      loop = null;
      abort = null;
    },
  };
}
