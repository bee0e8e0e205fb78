import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { BankServer } from '@sceneway/cloud-sync/bank';
import {
  type BoxSecrets,
  createLogger,
  hashPassword,
  parseBoxConfig,
  type RunningAgent,
  silentLogger,
  startAgent,
} from '@sceneway/gateway-agent';
import { waitFor } from '@sceneway/gateway-agent/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, saveScreenshot } from '../browser/chromium.ts';
import {
  demoConfigDocument,
  enrolBox,
  ensureDemoBoxKeys,
  provisionDemoTills,
  startDemoBank,
} from '../demo-site/demo-parts.ts';
import { openPtyPair, type PtyPair } from '../pty/pty-pair.ts';
import { type CanteenPosSim, startCanteenPosSim } from '../sim-canteen-pos/index.ts';

/**
 * The installer's commissioning UI (issue #14 item 4, D39) in Debian's Chromium against a real agent:
 * a temp data folder, the reference bank, a simulated till on a socat pty, the UI built from the current
 * sources. Log in (a wrong password refused), walk the wizard, see a bad value's error beside its field,
 * fix it, save the file, send the till a heartbeat and see its answer, run the final checklist.
 */
const TILL = 'north-till-1';
const PASSWORD = 'installer-test-password';
const FIRMWARE = 'CP-2.1';

let dataDir: string;
let bank: BankServer;
let secrets: BoxSecrets;
let pair: PtyPair;
let agent: RunningAgent;
let sim: CanteenPosSim;
let browser: Browser;
let page: Page;
let configFile: string;
let webDir: string;
let tillPath: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sceneway-installer-ui-'));
  webDir = join(dataDir, 'web');
  const building = promisify(execFile)(process.execPath, [
    resolve(import.meta.dirname, '../../../gateway-agent/build-web.mjs'),
    '--out',
    webDir,
  ]);
  const { bank: b, privateKeyHex: bankKey } = await startDemoBank(dataDir, 0);
  bank = b;
  secrets = ensureDemoBoxKeys(dataDir);
  mkdirSync(join(dataDir, 'pty'));
  pair = await openPtyPair(join(dataDir, 'pty'));
  tillPath = pair.a;
  const doc = demoConfigDocument({
    dataDir,
    ports: { admin: 0, broker: 0, bank: 0 },
    bankUrl: bank.url,
    bankPrivateKeyHex: bankKey,
    canteenLines: [{ terminalId: TILL, path: pair.a }],
  });
  doc.admin = { host: '127.0.0.1', port: 0, installer: { passwordHash: hashPassword(PASSWORD) } };
  configFile = join(dataDir, 'box.json');
  writeFileSync(configFile, JSON.stringify(doc, null, 2), { mode: 0o600 });
  const { config } = parseBoxConfig(doc);
  await enrolBox(bank, config, secrets, bankKey);
  const tillKey = provisionDemoTills(config, secrets).get(TILL);
  await building;
  // SCENEWAY_TEST_LOG=1 shows the agent's log (the installer part logs logins and saves).
  const logger = process.env.SCENEWAY_TEST_LOG ? createLogger({ destination: process.stderr }) : silentLogger;
  agent = await startAgent({ config, secrets, logger, configFile, installerWebDir: webDir });
  sim = await startCanteenPosSim({
    path: pair.b,
    baudRate: 115200,
    firmwareVersion: FIRMWARE,
    ...(tillKey ? { key: tillKey } : {}),
  });
  await waitFor(
    () => agent.status().terminals.some((t) => t.id === TILL && t.up),
    'the till to come up',
    20_000,
  );
  // A test sale, as an installer makes one: the bank's ack is what the checklist's bank and clock read.
  expect((await sim.till().swipe('04A1B2C3D4', 100)).decision.outcome).toBe('approved');
  await waitFor(() => agent.uploader.status().batchesAcked > 0, 'the first batch to be acknowledged', 30_000);
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await sim?.close();
  await agent?.stop();
  await pair?.close();
  await bank?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const field = (path: string) => page.locator(`[data-field="${path}"]`);
const errorOf = (path: string) => page.locator(`[data-error-for="${path}"]`);
const next = () => page.getByRole('button', { name: 'Next' }).click();
const stepTitle = (title: string) => page.locator('.step h2', { hasText: title }).waitFor();

describe('installer wizard in a real browser', () => {
  it('refuses a wrong password, then logs in', async () => {
    await page.goto(`${agent.adminUrl}/ui/`);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('Login refused');
    await saveScreenshot(page, 'installer-01-login-refused');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await stepTitle('Site identity');
    expect(await field('site.id').inputValue()).toBe('demo-campus');
    await saveScreenshot(page, 'installer-02-site');
  });

  it('walks site and bank, showing a bad bank URL beside its field until it is fixed', async () => {
    await field('site.name').fill('North campus canteen');
    await next();
    await stepTitle('Bank endpoint and key');
    const goodUrl = await field('bank.url').inputValue();
    await field('bank.url').fill('ftp://bank.example');
    await next();
    await errorOf('bank.url').waitFor();
    expect(await errorOf('bank.url').textContent()).toContain('expected an http(s) URL');
    // Beside its field: the error list sits in the same field block as the input.
    expect(await page.locator('.field.invalid [data-field="bank.url"]').count()).toBe(1);
    await saveScreenshot(page, 'installer-03-bank-url-error');
    await field('bank.url').fill(goodUrl);
    await next();
    await stepTitle('Box key and enrolment');
    await saveScreenshot(page, 'installer-04-keys');
  });

  it('shows the box key fingerprint and the signed enrolment request', async () => {
    expect(await page.getByTestId('box-fingerprint').textContent()).toMatch(
      /^([0-9a-f]{4} ){15}[0-9a-f]{4}$/,
    );
    await page.getByRole('button', { name: 'Show enrolment request' }).click();
    const request = JSON.parse((await page.getByTestId('enrolment-request').textContent()) ?? '');
    expect(request).toMatchObject({ format: 'sceneway.enrol.v1', enrolment: { boxId: 'demo-box-1' } });
    expect(request.enrolment.publicKeyHex).toBe(secrets.publicKeyHex);
    await next();
    await stepTitle('Terminals');
  });

  it('shows a serial path that is not absolute beside its field, then saves the fixed config', async () => {
    const portField = 'drivers[0].config.port.path';
    expect(await field(portField).inputValue()).toBe(tillPath);
    await field(portField).fill('ttyUSB0');
    await next();
    await errorOf(portField).waitFor();
    expect(await errorOf(portField).textContent()).toContain('expected an absolute device path');
    await saveScreenshot(page, 'installer-05-serial-path-error');
    await field(portField).fill(tillPath);
    await next();
    await stepTitle('Review and save');
    await page.getByRole('button', { name: 'Save config' }).click();
    await page.getByTestId('saved').waitFor();
    expect(await page.getByTestId('saved').textContent()).toContain('Restart the agent');
    await saveScreenshot(page, 'installer-06-saved');
    const saved = JSON.parse(readFileSync(configFile, 'utf8'));
    expect(saved.site).toMatchObject({ id: 'demo-campus', name: 'North campus canteen' });
    expect(saved.drivers[0].config.port.path).toBe(tillPath);
    // The file is still one the agent starts with, and the old one is kept.
    expect(parseBoxConfig(saved).config.site.name).toBe('North campus canteen');
    expect(existsSync(`${configFile}.bak`)).toBe(true);
    expect(JSON.parse(readFileSync(`${configFile}.bak`, 'utf8')).site.name).toBe('Demo campus canteen');
  });

  it('sends the till a heartbeat over the serial line and shows its answer', async () => {
    await next();
    await stepTitle('Live terminal test');
    const polledBefore = sim.till().terminal.received.length;
    await page.getByRole('button', { name: `Send heartbeat to ${TILL}` }).click();
    const cell = page.getByTestId(`probe-${TILL}`);
    await expect.poll(() => cell.textContent(), { timeout: 15_000 }).toContain('round trip');
    const text = (await cell.textContent()) ?? '';
    expect(text).toMatch(/^up, [\d.]+ ms round trip, firmware CP-2\.1/);
    expect(sim.till().terminal.received.length).toBeGreaterThan(polledBefore);
    await saveScreenshot(page, 'installer-07-live-test');
  });

  it('shows the final checklist: bank reachable, clock in sync, the till answering', async () => {
    await next();
    await stepTitle('Final checklist');
    await page.getByRole('button', { name: 'Run the final checks' }).click();
    await page.getByTestId('checklist').waitFor({ timeout: 20_000 });
    const state = (id: string) => page.locator(`[data-check="${id}"]`).getAttribute('data-state');
    expect(await state('bank')).toBe('ok');
    expect(await state('clock')).toBe('ok');
    expect(await state(`terminal:${TILL}`)).toBe('ok');
    expect(await page.locator(`[data-check="terminal:${TILL}"]`).textContent()).toContain(
      'answered a heartbeat',
    );
    expect(await page.getByText('All checks passed').count()).toBe(1);
    await saveScreenshot(page, 'installer-08-checklist');
  });

  it('says a till that stops answering fails its live test', async () => {
    await sim.close();
    const result = await agent.probeTerminal(TILL);
    expect(result).toMatchObject({ outcome: 'failed', code: 'POS_NO_ANSWER' });
  });
});

/** The installer API over plain HTTP, as an attacker would call it. */
describe('installer API refusals', () => {
  const origin = () => agent.adminUrl;
  const call = (
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: unknown,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> =>
    new Promise((done, fail) => {
      const req = request(`${agent.adminUrl}${path}`, { method, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      });
      req.on('error', fail);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });

  let cookie = '';
  let csrf = '';

  beforeAll(async () => {
    const answer = await call(
      'POST',
      '/ui/api/login',
      { origin: origin(), 'content-type': 'application/json' },
      {
        password: PASSWORD,
      },
    );
    expect(answer.status).toBe(200);
    cookie = String(answer.headers['set-cookie']).split(';')[0]!;
    csrf = JSON.parse(answer.body).csrfToken;
    expect(String(answer.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict; Path=\//);
  });

  const check = (headers: Record<string, string>) =>
    call(
      'POST',
      '/ui/api/config/check',
      { 'content-type': 'application/json', ...headers },
      {
        document: JSON.parse(readFileSync(configFile, 'utf8')),
      },
    );

  it('answers 401 without a session', async () => {
    expect((await call('GET', '/ui/api/config')).status).toBe(401);
    expect((await check({ origin: origin(), 'x-csrf-token': csrf })).status).toBe(401);
  });

  it('answers 403 to a POST without the CSRF token or with a wrong one', async () => {
    expect((await check({ origin: origin(), cookie })).status).toBe(403);
    expect((await check({ origin: origin(), cookie, 'x-csrf-token': `${csrf}x` })).status).toBe(403);
  });

  it('answers 403 to a POST from another Origin, or with none, even with session and token', async () => {
    expect((await check({ origin: 'http://evil.example', cookie, 'x-csrf-token': csrf })).status).toBe(403);
    expect((await check({ cookie, 'x-csrf-token': csrf })).status).toBe(403);
    // The same request from the box's own origin passes: the refusals above are the checks, not the route.
    expect((await check({ origin: origin(), cookie, 'x-csrf-token': csrf })).status).toBe(200);
  });

  it('refuses a stranger Host (DNS rebinding) before any login is tried', async () => {
    const port = new URL(agent.adminUrl).port;
    const answer = await call(
      'POST',
      '/ui/api/login',
      {
        host: `rebind.evil.example:${port}`,
        origin: `http://rebind.evil.example:${port}`,
        'content-type': 'application/json',
      },
      { password: PASSWORD },
    );
    expect(answer.status).toBe(421);
  });

  it('serves the UI with a strict Content-Security-Policy', async () => {
    const answer = await call('GET', '/ui/');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-security-policy']).toContain("script-src 'self'");
    expect(answer.body).not.toMatch(/<script>(?!<)/);
  });
});
