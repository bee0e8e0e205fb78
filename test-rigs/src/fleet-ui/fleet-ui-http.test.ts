import http from 'node:http';
import { type FleetServer, SqlFleetStore, sqliteRunner, startFleetServer } from '@sceneway/dashboards';
import { TEST_MQTT_URL, uniquePrefix } from '@sceneway/dashboards/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BESIDE_WEB_ROOT,
  builtDashboard,
  FLEET_TOKEN,
  OPS_PASSWORD,
  OPS_USER,
  startFleetWithUi,
} from './fleet-ui-kit.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with the path sent byte for byte (fetch would normalise `..` away before sending). */
function raw(
  base: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: hostname, port, path, method: init.method ?? 'GET', headers: init.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** Logs in as a browser would (same Origin, JSON); the session cookie and the CSRF token. */
async function loggedIn(base: string): Promise<{ cookie: string; csrf: string }> {
  const res = await raw(base, '/ui/api/login', {
    method: 'POST',
    headers: { origin: base, 'content-type': 'application/json' },
    body: JSON.stringify({ username: OPS_USER, password: OPS_PASSWORD }),
  });
  expect(res.status).toBe(200);
  const setCookie = String(res.headers['set-cookie']?.[0] ?? '');
  expect(setCookie).toMatch(/^sceneway_fleet_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\//);
  return {
    cookie: setCookie.split(';')[0] ?? '',
    csrf: (JSON.parse(res.body) as { csrfToken: string }).csrfToken,
  };
}

describe('ops dashboard over HTTP: what a stranger and a forged request get', () => {
  let fleet: FleetServer;
  let base: string;

  beforeAll(async () => {
    const web = await builtDashboard();
    cleanups.push(() => web.remove());
    const server = await startFleetWithUi(web.dir, { sse: { maxClients: 2, flushMs: 100 } });
    cleanups.push(() => server.close());
    fleet = server.fleet;
    base = fleet.url;
  });

  it('serves the built page under a strict CSP, with no inline script, and each asset with its type', async () => {
    const page = await raw(base, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const script = /<script[^>]*src="([^"]+)"/.exec(page.body)?.[1];
    const style = /<link[^>]*rel="stylesheet"[^>]*href="([^"]+)"/.exec(page.body)?.[1];
    expect((await raw(base, script ?? '/missing')).headers['content-type']).toBe(
      'text/javascript; charset=utf-8',
    );
    expect((await raw(base, style ?? '/missing')).headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('answers 404 to every path traversal, encoded or not', async () => {
    for (const path of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/index.html/../../secret.txt',
      '//etc/passwd',
      '/%2fetc%2fpasswd',
      '/assets/%00',
    ]) {
      const res = await raw(base, path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body).not.toContain(BESIDE_WEB_ROOT);
      expect(res.body).not.toContain('root:');
    }
  });

  it('refuses the session API and the event stream without a session: 401', async () => {
    for (const path of ['/ui/api/session', '/ui/api/boxes', '/ui/api/alerts', '/ui/api/boxes/b1/history']) {
      const res = await raw(base, path);
      expect({ path, status: res.status }).toEqual({ path, status: 401 });
    }
    const events = await raw(base, '/ui/api/events');
    expect(events.status).toBe(401);
    expect(events.headers['content-type']).not.toContain('text/event-stream');
    const forged = await raw(base, '/ui/api/boxes', {
      headers: { cookie: 'sceneway_fleet_session=forged-id' },
    });
    expect(forged.status).toBe(401);
    // The bearer token of machines is not a session either, and the session is not a bearer token.
    const bearer = await raw(base, '/ui/api/boxes', { headers: { authorization: `Bearer ${FLEET_TOKEN}` } });
    expect(bearer.status).toBe(401);
    const { cookie } = await loggedIn(base);
    expect((await raw(base, '/api/boxes', { headers: { cookie } })).status).toBe(401);
    expect(
      (await raw(base, '/api/boxes', { headers: { authorization: `Bearer ${FLEET_TOKEN}` } })).status,
    ).toBe(200);
  });

  it('gives a wrong password and an unknown user the same answer', async () => {
    const attempt = (username: string) =>
      raw(base, '/ui/api/login', {
        method: 'POST',
        headers: { origin: base, 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: 'a-wrong-password-123' }),
      });
    const wrong = await attempt(OPS_USER);
    const unknown = await attempt('nobody-here');
    expect(wrong.status).toBe(401);
    expect({ status: unknown.status, body: unknown.body }).toEqual({
      status: wrong.status,
      body: wrong.body,
    });
    expect(wrong.headers['set-cookie']).toBeUndefined();
  });

  it('refuses a state change with a missing or wrong CSRF token (403) and from another Origin (403)', async () => {
    const { cookie, csrf } = await loggedIn(base);
    const logout = (headers: Record<string, string>) =>
      raw(base, '/ui/api/logout', { method: 'POST', headers });
    expect((await logout({ cookie, origin: base })).status).toBe(403);
    expect((await logout({ cookie, origin: base, 'x-csrf-token': `${csrf}x` })).status).toBe(403);
    // Another session's token is no good either: tokens are bound to their session.
    const other = await loggedIn(base);
    expect((await logout({ cookie, origin: base, 'x-csrf-token': other.csrf })).status).toBe(403);
    expect((await logout({ cookie, origin: 'http://evil.example', 'x-csrf-token': csrf })).status).toBe(403);
    expect((await logout({ cookie, 'x-csrf-token': csrf })).status).toBe(403); // no Origin at all
    // A cross-origin login is refused before the password is looked at.
    const crossLogin = await raw(base, '/ui/api/login', {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'application/json' },
      body: JSON.stringify({ username: OPS_USER, password: OPS_PASSWORD }),
    });
    expect(crossLogin.status).toBe(403);
    expect(crossLogin.headers['set-cookie']).toBeUndefined();
    // A form post (no JSON content type) is refused too: the login is not a simple request.
    const formLogin = await raw(base, '/ui/api/login', {
      method: 'POST',
      headers: { origin: base, 'content-type': 'application/x-www-form-urlencoded' },
      body: `username=${OPS_USER}&password=${OPS_PASSWORD}`,
    });
    expect(formLogin.status).toBe(415);
    // The session survived all of that; the right token ends it.
    expect((await raw(base, '/ui/api/session', { headers: { cookie } })).status).toBe(200);
    expect((await logout({ cookie, origin: base, 'x-csrf-token': csrf })).status).toBe(200);
    expect((await raw(base, '/ui/api/session', { headers: { cookie } })).status).toBe(401);
  });

  it('streams events to a session, ends the stream at logout, and bounds the number of streams', async () => {
    const { cookie, csrf } = await loggedIn(base);
    const { hostname, port } = new URL(base);
    const open = () =>
      new Promise<{ res: http.IncomingMessage; first: string }>((resolve, reject) => {
        const req = http.get({ host: hostname, port, path: '/ui/api/events', headers: { cookie } }, (res) => {
          if (res.statusCode !== 200) return resolve({ res, first: '' });
          res.setEncoding('utf8');
          res.once('data', (first: string) => resolve({ res, first }));
        });
        req.on('error', reject);
      });
    const a = await open();
    expect(a.res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(a.first).toContain('event: hello');
    const b = await open();
    expect(b.res.statusCode).toBe(200);
    expect(fleet.ui?.hub.clients()).toBe(2);
    const c = await open(); // maxClients 2
    expect(c.res.statusCode).toBe(503);
    c.res.resume();
    const ended = Promise.all([a, b].map((s) => new Promise((r) => s.res.once('end', r))));
    await raw(base, '/ui/api/logout', {
      method: 'POST',
      headers: { cookie, origin: base, 'x-csrf-token': csrf },
    });
    await ended;
    expect(fleet.ui?.hub.clients()).toBe(0);
  });
});

describe('dashboard login throttle', () => {
  it('locks an address out after three failures (429, no scrypt), but not a user who logged in from it before', async () => {
    const server = await startFleetWithUi(undefined, { webRoot: '/nonexistent/sceneway-web' });
    try {
      const base = server.fleet.url;
      const attempt = (username: string, password: string) =>
        raw(base, '/ui/api/login', {
          method: 'POST',
          headers: { origin: base, 'content-type': 'application/json' },
          body: JSON.stringify({ username, password }),
        });
      expect((await attempt(OPS_USER, OPS_PASSWORD)).status).toBe(200);
      for (let i = 0; i < 3; i++) expect((await attempt('guess', `wrong-${i}-password`)).status).toBe(401);
      const locked = await attempt('guess', OPS_PASSWORD);
      expect(locked.status).toBe(429);
      expect(locked.headers['retry-after']).toBe('5');
      expect((await attempt(OPS_USER, OPS_PASSWORD)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('fleet server without a dashboard build or without users', () => {
  it('says "run npm run build" with a 503 when the build is missing', async () => {
    const server = await startFleetWithUi(undefined, { webRoot: '/nonexistent/sceneway-web' });
    try {
      const res = await raw(server.fleet.url, '/');
      expect(res.status).toBe(503);
      expect(res.body).toContain('npm run build');
      // The session API does not depend on the build.
      expect((await raw(server.fleet.url, '/ui/api/boxes')).status).toBe(401);
    } finally {
      await server.close();
    }
  });

  it('without --ui-users: the UI is off and / says how to turn it on; the bearer API is unchanged', async () => {
    const fleet = await startFleetServer({
      store: new SqlFleetStore(sqliteRunner(':memory:')),
      mqtt: { url: TEST_MQTT_URL, topicPrefix: uniquePrefix('ui-off'), shareGroup: 'ui-off' },
      http: { host: '127.0.0.1', port: 0 },
      token: FLEET_TOKEN,
      logger: pino({ level: 'silent' }),
    });
    try {
      const res = await raw(fleet.url, '/');
      expect(res.status).toBe(404);
      expect(res.body).toContain('--ui-users');
      expect(res.body).toContain('sceneway broker hash-password');
      expect((await raw(fleet.url, '/ui/api/session')).status).toBe(404);
      expect(fleet.ui).toBeNull();
      const api = await raw(fleet.url, '/api/boxes', { headers: { authorization: `Bearer ${FLEET_TOKEN}` } });
      expect(api.status).toBe(200);
    } finally {
      await fleet.close();
    }
  });
});
