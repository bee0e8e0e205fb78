import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@sceneway/gateway-agent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, saveScreenshot } from '../browser/chromium.ts';
import { DEMO_BOX_ID } from './demo-parts.ts';

/**
 * `npm start` as a user runs it (the same script, every port 0 through the env): the "where to look"
 * banner names both UIs with the passwords generated for this run, those passwords open them, and the
 * fleet server the demo started sees the demo box through the demo's own fleet broker.
 */
const script = fileURLToPath(new URL('./demo-site.ts', import.meta.url));
let dataDir: string;
let demo: ChildProcessWithoutNullStreams;
let out = '';
let err = '';

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'sceneway-demo-start-'));
  demo = spawn(process.execPath, ['--import', 'tsx', script], {
    env: {
      ...process.env,
      SCENEWAY_DEMO_DIR: dataDir,
      SCENEWAY_ADMIN_PORT: '0',
      SCENEWAY_BANK_PORT: '0',
      SCENEWAY_BROKER_PORT: '0',
      SCENEWAY_FLEET_PORT: '0',
      SCENEWAY_FLEET_BROKER_PORT: '0',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  demo.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  demo.stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
});

afterAll(async () => {
  if (demo && demo.exitCode === null && demo.signalCode === null) {
    const exited = new Promise((resolve) => demo.once('exit', resolve));
    demo.kill('SIGKILL');
    await exited;
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** One banner line's fields: `  <label>  <rest>`. */
function bannerLine(label: string): string {
  const line = out.split('\n').find((l) => l.startsWith(`  ${label} `));
  expect(line, `the banner's "${label}" line`).toBeDefined();
  return (line as string).slice(label.length + 2).trim();
}

const post = (url: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: new URL(url).origin },
    body: JSON.stringify(body),
  });

describe('npm start', () => {
  it('prints both UIs with their passwords, which log in, and its fleet server sees the demo box', async () => {
    await waitFor(
      () => {
        if (demo.exitCode !== null) throw new Error(`the demo exited (${demo.exitCode}): ${err}`);
        return out.includes('Ctrl-C stops everything');
      },
      'the banner',
      120_000,
    );

    const installer = /^(http:\/\/127\.0\.0\.1:\d+)\/ui\/\s+password (\S+) \(new each start\)$/.exec(
      bannerLine('installer UI'),
    );
    expect(installer, bannerLine('installer UI')).not.toBeNull();
    const dashboard = /^(http:\/\/127\.0\.0\.1:\d+)\/\s+user (\S+), password (\S+) \(new each start\)$/.exec(
      bannerLine('ops dashboard'),
    );
    expect(dashboard, bannerLine('ops dashboard')).not.toBeNull();
    const [, adminUrl, installerPassword] = installer as unknown as [string, string, string];
    const [, fleetUrl, user, fleetPassword] = dashboard as unknown as [string, string, string, string];
    expect(bannerLine('fleet API')).toContain(`${fleetUrl}/api/boxes`);

    // The printed passwords are the ones the UIs check (and a wrong one is refused).
    expect((await post(`${adminUrl}/ui/api/login`, { password: `${installerPassword}x` })).status).toBe(401);
    expect((await post(`${adminUrl}/ui/api/login`, { password: installerPassword })).status).toBe(200);
    expect(
      (await post(`${fleetUrl}/ui/api/login`, { username: user, password: `${fleetPassword}x` })).status,
    ).toBe(401);
    const login = await post(`${fleetUrl}/ui/api/login`, { username: user, password: fleetPassword });
    expect(login.status).toBe(200);
    expect(login.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict; Path=\//);

    // Both pages are served (built by `npm ci`'s prepare: dashboards/ and gateway-agent/build-web.mjs).
    for (const url of [`${fleetUrl}/`, `${adminUrl}/ui/`]) {
      const page = await fetch(url);
      expect(page.status, `${url}: run npm run build if the UI is missing`).toBe(200);
      expect(page.headers.get('content-type'), url).toMatch(/^text\/html/);
    }

    // The fleet sees the demo box online, with its tills, through the demo's fleet broker.
    const tokenFile = /bearer token in (\S+)$/.exec(bannerLine('fleet API'))?.[1] ?? '';
    const token = readFileSync(tokenFile, 'utf8').trim();
    const boxAtFleet = async () => {
      const res = await fetch(`${fleetUrl}/api/boxes/${DEMO_BOX_ID}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (res.status !== 200) return null;
      return (
        (await res.json()) as {
          box: { online: boolean; health: { terminals: Array<{ id: string; up: boolean }> } | null };
        }
      ).box;
    };
    await waitFor(async () => (await boxAtFleet())?.health != null, 'the demo box at the fleet', 60_000);
    const box = await boxAtFleet();
    expect(box?.online).toBe(true);
    expect(box?.health?.terminals.map((t) => t.id)).toEqual(
      expect.arrayContaining(['north-till-1', 'north-till-2', 'south-till-1']),
    );
    // The first heartbeat goes out on connect, before the terminals are up; a later one (every 10 s)
    // shows every terminal answering, and the fleet resolves the terminal alerts it raised meanwhile.
    await waitFor(
      async () => (await boxAtFleet())?.health?.terminals.every((t) => t.up) === true,
      'every demo terminal up at the fleet',
      60_000,
    );
    // In a real browser, with the printed login: the demo fleet shows the demo box online.
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${fleetUrl}/`);
      await page.getByLabel('Username').fill(user);
      await page.getByLabel('Password').fill(fleetPassword);
      await page.getByRole('button', { name: 'Log in' }).click();
      const row = page
        .getByRole('table', { name: 'Boxes' })
        .getByRole('row')
        .filter({ hasText: DEMO_BOX_ID });
      await row.waitFor({ timeout: 30_000 });
      const text = (await row.allInnerTexts()).join(' ');
      expect(text).toMatch(/online/i);
      expect(text).toMatch(/(\d+)\/\1 up/);
      await saveScreenshot(page, 'demo-fleet');
    } finally {
      await browser.close();
    }

    // Passwords are printed once, in the banner, and never logged.
    expect(out.split(installerPassword).length - 1).toBe(1);
    expect(out.split(fleetPassword).length - 1).toBe(1);
    expect(err).not.toContain(installerPassword);
    expect(err).not.toContain(fleetPassword);

    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
    demo.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toContain('stopped. Data kept in');
  }, 240_000);
});
