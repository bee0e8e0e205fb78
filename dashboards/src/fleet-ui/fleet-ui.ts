import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { AlertThresholds } from '../fleet-server/alert-rules.ts';
import { readFleet } from '../fleet-server/fleet-read-api.ts';
import type { FleetStore } from '../fleet-server/fleet-store.ts';
import { createSseHub, type SseHub } from './sse-hub.ts';
import { loadWebRoot, SECURITY_HEADERS } from './static-files.ts';
import { createUiLogin } from './ui-login.ts';
import { createUiSessions, type UiSession } from './ui-sessions.ts';
import type { UiUser } from './ui-users.ts';

/** Where `npm run build` (dashboards/build-web.mjs) leaves the dashboard. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../dist/web', import.meta.url));
export const SESSION_COOKIE = 'sceneway_fleet_session';

export interface FleetUiOptions {
  users: ReadonlyArray<UiUser>;
  /**
   * The dashboard's public origin when it is reached through a TLS proxy (`https://fleet.example`):
   * POSTs must carry exactly this Origin and the cookie gets `Secure`. Without it the Origin must be
   * the request's own `http(s)://<Host>`.
   */
  origin?: string;
  /** The built dashboard (default dashboards/dist/web). */
  webRoot?: string;
  session?: { idleMinutes?: number; maxAgeHours?: number; maxSessions?: number };
  sse?: { maxClients?: number; maxPerSession?: number; flushMs?: number; keepAliveMs?: number };
  /** Password checks a second that logins from never-seen paths may start (default 2, burst 4). */
  strangerChecks?: { perSecond: number; burst: number };
}

export interface FleetUi {
  handle(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void>;
  hub: SseHub;
  close(): Promise<void>;
}

const MAX_LOGIN_BODY = 4096;

/**
 * The ops dashboard's side of the fleet server: the built files, a session login and the session's
 * read API and event stream under `/ui/api/`. The bearer API (`/api/`) is untouched: machines keep it.
 * Refusals come cheapest first (DESIGN invariant 8): Origin, content type and size before a body is
 * parsed, the login throttle before a scrypt.
 */
export function createFleetUi(
  options: FleetUiOptions & {
    store: FleetStore;
    thresholds: AlertThresholds;
    logger: Logger;
    now: () => number;
  },
): FleetUi {
  const { store, logger } = options;
  const webRootDir = options.webRoot ?? DEFAULT_WEB_ROOT;
  const webRoot = loadWebRoot(webRootDir);
  if (!webRoot)
    logger.error(
      { webRoot: webRootDir },
      'the ops dashboard is not built: run npm run build (the UI answers 503 until then)',
    );
  const publicOrigin = options.origin ? new URL(options.origin).origin : null;
  const secureCookie = publicOrigin?.startsWith('https:') ?? false;
  let hub: SseHub | null = null;
  const sessions = createUiSessions({
    idleMs: (options.session?.idleMinutes ?? 30) * 60_000,
    maxAgeMs: (options.session?.maxAgeHours ?? 12) * 3_600_000,
    maxSessions: options.session?.maxSessions ?? 1000,
    now: Date.now,
    onEnd: (id) => hub?.closeSession(id),
  });
  hub = createSseHub({
    maxClients: options.sse?.maxClients ?? 100,
    maxPerSession: options.sse?.maxPerSession ?? 4,
    flushMs: options.sse?.flushMs ?? 1000,
    keepAliveMs: options.sse?.keepAliveMs ?? 15_000,
    maxBufferedBytes: 1024 * 1024,
    isLive: (id) => sessions.isLive(id),
  });
  const login = createUiLogin(
    options.users,
    options.strangerChecks ? { strangerChecks: options.strangerChecks } : {},
  );

  const sessionOf = (req: http.IncomingMessage): UiSession | null =>
    sessions.get(cookieValue(req.headers.cookie, SESSION_COOKIE));

  const sameOrigin = (req: http.IncomingMessage): boolean => {
    const origin = req.headers.origin;
    if (typeof origin !== 'string') return false;
    if (publicOrigin) return origin === publicOrigin;
    const host = req.headers.host;
    return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
  };

  const cookie = (value: string, maxAgeSeconds?: number) =>
    [
      `${SESSION_COOKIE}=${value}`,
      'HttpOnly',
      'SameSite=Strict',
      'Path=/',
      ...(maxAgeSeconds === undefined ? [] : [`Max-Age=${maxAgeSeconds}`]),
      ...(secureCookie ? ['Secure'] : []),
    ].join('; ');

  const sessionBody = (s: UiSession) => ({
    user: s.user,
    csrfToken: s.csrfToken,
    rpoSeconds: options.thresholds.rpoSeconds,
    offlineAfterSeconds: options.thresholds.offlineAfterSeconds,
    serverNow: options.now(),
  });

  const api = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    const path = url.pathname.slice('/ui/api'.length);
    if (req.method === 'POST') {
      if (!sameOrigin(req)) return json(res, 403, { error: 'cross-origin request refused' });
      if (path === '/login') {
        if (!/^application\/json(;|$)/.test(req.headers['content-type'] ?? ''))
          return json(res, 415, { error: 'send the login as application/json' });
        const body = await readBody(req, MAX_LOGIN_BODY);
        if (body === null) {
          res.setHeader('connection', 'close'); // the rest of that body is not read
          return json(res, 413, { error: 'login body too large' });
        }
        const { username, password } = parseLogin(body);
        if (username === null || password === null)
          return json(res, 400, { error: 'expected {"username": "...", "password": "..."}' });
        const address = req.socket.remoteAddress ?? 'unknown';
        const outcome = await login.check(address, username, password);
        if (!outcome.ok) {
          // The operator's log says why; the answer does not (004 §5.3.2: no precise reason to a stranger).
          logger.warn(
            {
              remoteAddress: address,
              reason: outcome.detail,
              ...(outcome.detail === 'wrong_password' ? { username } : {}),
            },
            'dashboard login refused',
          );
          if (outcome.reason === 'throttled') {
            res.setHeader('retry-after', '5');
            return json(res, 429, { error: 'too many login attempts; try again in a moment' });
          }
          return json(res, 401, { error: 'wrong username or password' });
        }
        const old = sessionOf(req);
        if (old) sessions.end(old.id); // a new login never keeps an old (possibly planted) session id
        const session = sessions.create(outcome.user);
        logger.info({ user: outcome.user, remoteAddress: address }, 'dashboard login');
        res.setHeader('set-cookie', cookie(session.id));
        return json(res, 200, sessionBody(session));
      }
      const session = sessionOf(req);
      if (!session) return json(res, 401, { error: 'not logged in' });
      if (!tokenMatches(req.headers['x-csrf-token'], session.csrfToken))
        return json(res, 403, { error: 'missing or wrong X-CSRF-Token' });
      if (path === '/logout') {
        sessions.end(session.id);
        res.setHeader('set-cookie', cookie('', 0));
        return json(res, 200, { ok: true });
      }
      return json(res, 404, { error: 'no such route' });
    }
    if (req.method !== 'GET') return json(res, 405, { error: 'GET or POST only' });
    const session = sessionOf(req);
    if (!session) return json(res, 401, { error: 'not logged in' });
    if (path === '/session') return json(res, 200, sessionBody(session));
    if (path === '/events') {
      if (!hub.add(res, session.id)) return json(res, 503, { error: 'too many live-update streams' });
      return;
    }
    const answer = await readFleet(store, path, url.searchParams);
    if (answer) return json(res, answer.status, answer.body);
    return json(res, 404, { error: 'no such route' });
  };

  return {
    hub,
    async handle(req, res, url) {
      if (url.pathname.startsWith('/ui/api/')) return api(req, res, url);
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'GET only' });
      if (!webRoot) {
        res.writeHead(503, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' });
        res.end(
          '<!doctype html><title>Ops dashboard not built</title><h1>The ops dashboard is not built</h1><p>Run <code>npm run build</code> in the repository, then restart sceneway-fleet.</p>',
        );
        return;
      }
      if (webRoot.serve(req, res, url.pathname)) return;
      res.writeHead(404, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found');
    },
    async close() {
      hub.close();
      await login.close();
    },
  };
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(JSON.stringify(body));
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

function tokenMatches(header: string | string[] | undefined, token: string): boolean {
  if (typeof header !== 'string' || header.length === 0) return false;
  return timingSafeEqual(digest(header), digest(token));
}

/** The body up to `limit` bytes, or null past it (the socket is not read further). */
function readBody(req: http.IncomingMessage, limit: number): Promise<string | null> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseLogin(body: string): { username: string | null; password: string | null } {
  try {
    const v = JSON.parse(body) as unknown;
    if (typeof v !== 'object' || v === null) return { username: null, password: null };
    const { username, password } = v as Record<string, unknown>;
    return {
      username: typeof username === 'string' && username.length > 0 ? username : null,
      password: typeof password === 'string' ? password : null,
    };
  } catch {
    return { username: null, password: null };
  }
}
