import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AdminServer, startAdminServer } from '../admin/admin-server.ts';
import { createAgentMetrics } from '../admin/agent-metrics.ts';
import { hashPassword } from '../broker/password-hash.ts';
import { createLogger } from '../logger.ts';
import { createInstaller, type Installer, type InstallerOptions } from './installer-api.ts';

/**
 * The installer's server half on a real admin listener, without an agent: the page when it is off or
 * not built, the login throttle, and that the password never reaches the log. The wizard itself runs in
 * a browser against a real agent (test-rigs/src/installer-ui/installer-wizard.test.ts).
 */
const PASSWORD = 'correct-horse-battery';
let dir: string;
let hash: string;
let server: AdminServer | undefined;
let installer: Installer | undefined;
const lines: string[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sceneway-installer-api-'));
  hash = hashPassword(PASSWORD);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await server?.close();
  await installer?.close();
  server = undefined;
  installer = undefined;
  lines.length = 0;
});

async function start(overrides: Partial<InstallerOptions> = {}): Promise<string> {
  const logger = createLogger({
    level: 'trace',
    destination: new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  });
  installer = createInstaller({
    passwordHash: hash,
    configFile: undefined,
    adminHost: '127.0.0.1',
    boxPublicKeyHex: `04${'11'.repeat(64)}`,
    enrolmentRequest: () => {
      throw new Error('not in this test');
    },
    terminals: () => [],
    probe: async () => ({ outcome: 'failed', code: 'X', detail: 'none' }),
    checklist: () => {
      throw new Error('not in this test');
    },
    logger,
    webDir: join(dir, 'no-build-here'),
    ...overrides,
  });
  server = await startAdminServer({
    host: '127.0.0.1',
    port: 0,
    status: () => {
      throw new Error('not in this test');
    },
    metrics: createAgentMetrics(),
    logger,
    installer,
  });
  return server.url;
}

const login = (url: string, password: string) =>
  fetch(`${url}/ui/api/login`, {
    method: 'POST',
    headers: { origin: url, 'content-type': 'application/json' },
    body: JSON.stringify({ password }),
  });

describe('installer API without an agent', () => {
  it('says how to turn the UI on when admin.installer is absent', async () => {
    const url = await start({ passwordHash: undefined });
    const res = await fetch(`${url}/ui/`);
    expect(res.status).toBe(404);
    expect(await res.text()).toContain('admin.installer.passwordHash');
  });

  it('says "run npm run build" (503 and one log line) when the UI is not built', async () => {
    const url = await start();
    const res = await fetch(`${url}/ui/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('run npm run build');
    await fetch(`${url}/ui/`);
    expect(lines.filter((l) => l.includes('INSTALLER_WEB_MISSING'))).toHaveLength(1);
  });

  it('serves a built UI with its content type and CSP, and nothing outside its folder', async () => {
    const web = join(dir, 'web');
    rmSync(web, { recursive: true, force: true });
    mkdirSync(join(web, 'assets'), { recursive: true });
    writeFileSync(
      join(web, 'index.html'),
      '<!doctype html><script type="module" src="/ui/assets/a.js"></script>',
    );
    writeFileSync(join(web, 'assets/a.js'), 'export {};');
    writeFileSync(join(dir, 'secret.txt'), 'no');
    const url = await start({ webDir: web });
    const js = await fetch(`${url}/ui/assets/a.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await fetch(`${url}/ui/assets/..%2f..%2fsecret.txt`)).status).not.toBe(200);
    expect((await fetch(`${url}/ui/wizard/step-2`)).headers.get('content-type')).toContain('text/html');
  });

  it('locks an address out after three wrong passwords, the right one included, and never logs it', async () => {
    // A clock that stands still: the lockout (1 s after the third failure) cannot run out mid-test.
    const url = await start({ now: () => 1_000_000 });
    for (let i = 0; i < 3; i++) expect((await login(url, `wrong-${i}`)).status).toBe(401);
    const locked = await login(url, PASSWORD);
    expect(locked.status).toBe(401);
    expect(lines.some((l) => l.includes('"throttled":true'))).toBe(true);
    expect(lines.join('\n')).not.toContain(PASSWORD);
    expect(lines.join('\n')).not.toContain('wrong-0');
  });

  it('logs in with the right password: a session, its CSRF token, and logout ends it', async () => {
    const url = await start();
    const res = await login(url, PASSWORD);
    expect(res.status).toBe(200);
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    const { csrfToken } = (await res.json()) as { csrfToken: string };
    const session = await fetch(`${url}/ui/api/session`, { headers: { cookie } });
    expect(await session.json()).toMatchObject({ csrfToken, configFile: null });
    // Started without a config file: the wizard cannot save, and says why.
    expect((await fetch(`${url}/ui/api/config`, { headers: { cookie } })).status).toBe(409);
    const out = await fetch(`${url}/ui/api/logout`, {
      method: 'POST',
      headers: { cookie, origin: url, 'x-csrf-token': csrfToken },
    });
    expect(out.status).toBe(200);
    expect((await fetch(`${url}/ui/api/session`, { headers: { cookie } })).status).toBe(401);
  });

  it('refuses an oversized body before reading it', async () => {
    const url = await start();
    const res = await fetch(`${url}/ui/api/login`, {
      method: 'POST',
      headers: { origin: url, 'content-type': 'application/json' },
      body: JSON.stringify({ password: 'x'.repeat(10_000) }),
    });
    expect(res.status).toBe(413);
  });
});
