import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createFleetUi, type FleetUi, type FleetUiOptions } from '../fleet-ui/fleet-ui.ts';
import { type AlertThresholds, DEFAULT_THRESHOLDS, wantedAlerts } from './alert-rules.ts';
import { bearerMatches } from './api-token.ts';
import { createFleetMetrics } from './fleet-metrics.ts';
import { readFleet } from './fleet-read-api.ts';
import type { BoxState, FleetAlert, FleetStore } from './fleet-store.ts';
import { type ConsumedMessage, startTelemetryConsumer } from './telemetry-consumer.ts';
import { createWebhook, type WebhookOptions } from './webhook.ts';

export interface FleetServerOptions {
  store: FleetStore;
  mqtt: {
    url: string;
    username?: string;
    password?: string;
    ca?: Buffer;
    topicPrefix: string;
    /** Shared-subscription group; null = a lone replica on a broker without $share (telemetry-consumer.ts). */
    shareGroup: string | null;
  };
  http: { host: string; port: number };
  token: string;
  thresholds?: Partial<AlertThresholds>;
  /** Seconds between sweeps of every box for time-based rules (a heartbeat that stopped coming). */
  sweepSeconds?: number;
  webhook?: Pick<WebhookOptions, 'url'> & Partial<Omit<WebhookOptions, 'url' | 'onOutcome'>>;
  /**
   * The ops dashboard (`/`, `/ui/api/…`, session login from these users). Without it the UI is off and
   * `/` says how to turn it on; the bearer API is the same either way.
   */
  ui?: FleetUiOptions;
  /** Fleet-server time; tests move it. */
  now?: () => number;
  logger: Logger;
}

export interface FleetServer {
  url: string;
  store: FleetStore;
  /** The dashboard's side, when `ui` was given (its live-update hub: tests and the demo read it). */
  ui: FleetUi | null;
  /** Messages this replica took from the shared subscription. */
  consumed(): number;
  /** Evaluates every box's rules now (the sweep timer does it every sweepSeconds). */
  sweep(): Promise<void>;
  /** Resolves once every webhook notification so far was delivered or given up. */
  webhookIdle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * One fleet-server replica: takes its share of the telemetry, keeps the store current, evaluates the
 * alert rules after each message and on a sweep, and serves the JSON API and /metrics. Replicas share
 * nothing but the broker and the store.
 */
export async function startFleetServer(options: FleetServerOptions): Promise<FleetServer> {
  const { store, logger } = options;
  const now = options.now ?? Date.now;
  const thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
  const metrics = createFleetMetrics();
  const webhook = options.webhook
    ? createWebhook({
        attempts: 4,
        timeoutMs: 5000,
        backoff: { initialDelayMs: 500, maxDelayMs: 10_000 },
        maxQueued: 1000,
        ...options.webhook,
        onOutcome: (event, outcome) => metrics.notifications.inc({ event, outcome }),
      })
    : null;
  let consumed = 0;
  await store.init();
  const ui = options.ui ? createFleetUi({ ...options.ui, store, thresholds, logger, now }) : null;

  const notify = (event: 'raised' | 'resolved', alert: FleetAlert) => {
    logger.info({ event, box: alert.boxId, code: alert.code }, `fleet alert ${event}`);
    webhook?.notify({ event, alert });
    ui?.hub.alert(event, alert);
  };

  const evaluate = async (box: BoxState) => {
    const at = now();
    const wanted = wantedAlerts(box, at, thresholds);
    const active = await store.alerts({ activeOnly: true, boxId: box.boxId });
    for (const w of wanted) {
      if (active.some((a) => a.code === w.code)) continue;
      const raised = await store.raiseAlert({
        boxId: box.boxId,
        code: w.code,
        message: w.message,
        raisedAt: at,
      });
      if (raised) notify('raised', raised);
    }
    for (const a of active) {
      if (wanted.some((w) => w.code === a.code)) continue;
      const resolved = await store.resolveAlert(box.boxId, a.code, at);
      if (resolved) notify('resolved', resolved);
    }
  };

  const onMessage = async (message: ConsumedMessage) => {
    const receivedAt = now();
    let boxId: string;
    let applied: boolean;
    if (message.kind === 'status') {
      boxId = message.status.boxId;
      applied = await store.applyStatus(message.status, receivedAt);
    } else {
      boxId = message.heartbeat.boxId;
      applied = await store.applyHeartbeat(message.heartbeat, receivedAt);
      metrics.lag.observe(Math.max(0, (receivedAt - message.heartbeat.sentAt) / 1000));
    }
    metrics.messages.inc({ kind: message.kind, outcome: applied ? 'applied' : 'stale' });
    const box = await store.box(boxId);
    if (box && applied) ui?.hub.boxChanged(box);
    if (box) await evaluate(box);
    consumed++; // counted once stored and evaluated: a test that waits on it may read the result
  };

  const sweep = async () => {
    for (const box of await store.boxes()) await evaluate(box);
  };

  const consumer = await startTelemetryConsumer({
    ...options.mqtt,
    logger,
    onMessage,
    onRejected: (kind, reason) => {
      metrics.messages.inc({ kind, outcome: `refused_${reason.replace('-', '_')}` });
      logger.warn({ kind, reason }, 'telemetry message refused');
    },
  });

  let sweeping: Promise<void> | null = null;
  const timer = setInterval(
    () => {
      sweeping ??= sweep()
        .catch((err) => logger.error({ err: (err as Error).message }, 'alert sweep failed'))
        .finally(() => {
          sweeping = null;
        });
    },
    (options.sweepSeconds ?? 15) * 1000,
  );
  timer.unref();

  const server = http.createServer((req, res) => {
    route(req, res).catch((err) => {
      logger.error({ err: (err as Error).message, path: req.url }, 'fleet API error');
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
    });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;

  const route = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fleet');
    if (url.pathname === '/healthz') return json(res, 200, { ok: true });
    const machineApi = url.pathname === '/metrics' || url.pathname.startsWith('/api/');
    if (!machineApi) {
      if (ui) return ui.handle(req, res, url);
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      return res.end(UI_OFF_TEXT);
    }
    if (req.method !== 'GET') return json(res, 405, { error: 'only GET' });
    if (!bearerMatches(req.headers.authorization, options.token)) {
      res.setHeader('www-authenticate', 'Bearer');
      return json(res, 401, { error: 'missing or wrong bearer token' });
    }
    if (url.pathname === '/metrics') {
      const boxes = await store.boxes();
      metrics.boxes.set({ state: 'online' }, boxes.filter((b) => b.online).length);
      metrics.boxes.set({ state: 'offline' }, boxes.filter((b) => !b.online).length);
      metrics.activeAlerts.reset();
      for (const a of await store.alerts({ activeOnly: true, limit: 100_000 }))
        metrics.activeAlerts.inc({ rule: a.code.split(':')[0] ?? a.code });
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      return res.end(await metrics.registry.metrics());
    }
    const answer = await readFleet(store, url.pathname.slice('/api'.length), url.searchParams);
    if (answer) return json(res, answer.status, answer.body);
    return json(res, 404, { error: 'no such route' });
  };

  await new Promise<void>((resolve) => server.listen(options.http.port, options.http.host, resolve));
  const { port } = server.address() as AddressInfo;
  const host = options.http.host.includes(':') ? `[${options.http.host}]` : options.http.host;
  return {
    url: `http://${host}:${port}`,
    store,
    ui,
    consumed: () => consumed,
    sweep,
    webhookIdle: async () => webhook?.idle(),
    async close() {
      clearInterval(timer);
      await consumer.close();
      await sweeping;
      await ui?.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await webhook?.close();
      await store.close();
    },
  };
}

const UI_OFF_TEXT = [
  'The ops dashboard is off on this fleet server.',
  'Turn it on with --ui-users FILE: a 0600 file of lines name:<hash>, each hash printed by',
  '  printf %s "$PASSWORD" | sceneway broker hash-password',
  'The machine API (/api/..., /metrics, bearer token) does not need it.',
  '',
].join('\n');

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
