import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { clearRetainedStatus, killed, spawnTelemetryBox, TEST_MQTT_URL } from '@sceneway/dashboards/testing';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, saveScreenshot } from '../browser/chromium.ts';
import { builtDashboard, OPS_PASSWORD, OPS_USER, startFleetWithUi } from './fleet-ui-kit.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const WAIT = { timeout: 30_000 };

/** What a row or cell shows, cells apart (the rendered text, as a reader sees it). */
const textOf = async (locator: Locator) => (await locator.allInnerTexts()).join('\n');

/**
 * The ops dashboard in Debian's Chromium against a real fleet server on the machine's Mosquitto, fed
 * by two real telemetry parts in child processes (a SIGKILL is a box losing power: the broker sends
 * its last will). Everything is asserted on what the page shows, and each step leaves a screenshot.
 */
describe('ops dashboard in a browser', () => {
  let browser: Browser;
  let page: Page;
  let url: string;
  let prefix: string;
  const north = `north-${randomBytes(3).toString('hex')}`;
  const south = `south-${randomBytes(3).toString('hex')}`;
  let southBox: ChildProcess;
  const cspViolations: string[] = [];

  beforeAll(async () => {
    const web = await builtDashboard();
    cleanups.push(() => web.remove());
    const server = await startFleetWithUi(web.dir);
    cleanups.push(() => server.close());
    url = server.fleet.url;
    prefix = server.prefix;
    cleanups.push(() => clearRetainedStatus(TEST_MQTT_URL, prefix, [north, south]));
    // North: ten records waiting for 31 minutes (past the 30-minute RPO), one till down on an older firmware.
    const northBox = await spawnTelemetryBox(TEST_MQTT_URL, prefix, north, {
      siteId: 'campus-north',
      intervalSeconds: 1,
      health: {
        ledger: { depth: 10, oldestUnsyncedAgeSeconds: 31 * 60, headSeq: 10, lastSyncedSeq: 0 },
        terminals: [
          { id: 'till-1', driver: 'canteen-pos', up: true, firmware: 'POS-2.4.1' },
          { id: 'till-2', driver: 'canteen-pos', up: false, firmware: 'POS-2.3.0' },
        ],
        // A campaign whose canary failed its health gate: paused, the canary rolled back (#15).
        firmwareCampaigns: [
          {
            id: 'fw-20261201-0c0ffee0',
            family: 'canteen-pos',
            targetVersion: '2.5.0',
            status: 'paused',
            terminals: 2,
            byState: {
              pending: 1,
              transferring: 0,
              installed: 0,
              healthy: 0,
              failed: 0,
              'rolled-back': 1,
              refused: 0,
            },
          },
        ],
      },
    });
    cleanups.push(() => killed(northBox));
    southBox = await spawnTelemetryBox(TEST_MQTT_URL, prefix, south, { siteId: 'campus-south' });
    cleanups.push(() => killed(southBox));
    browser = await launchChromium();
    cleanups.push(() => browser.close());
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    // The server's strict CSP must not be broken by the page itself (an inline style or script).
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });

  it('refuses a wrong password, logs in, shows the fleet, a box, and an offline alert raised and resolved live', async () => {
    await page.goto(url);
    const form = page.getByRole('form', { name: 'Log in' });
    await form.waitFor(WAIT);
    await saveScreenshot(page, 'fleet-ui-01-login');

    await page.getByLabel('Username').fill(OPS_USER);
    await page.getByLabel('Password').fill('not-the-password-1234');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'wrong username or password' }).waitFor(WAIT);
    expect(await page.getByRole('table', { name: 'Boxes' }).count()).toBe(0);
    await saveScreenshot(page, 'fleet-ui-02-wrong-password');

    await page.getByLabel('Password').fill(OPS_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    const boxes = page.getByRole('table', { name: 'Boxes' });
    const northRow = boxes.getByRole('row').filter({ hasText: north });
    const southRow = boxes.getByRole('row').filter({ hasText: south });
    await northRow.waitFor(WAIT);
    await southRow.waitFor(WAIT);
    await page.getByRole('status', { name: 'Live updates' }).filter({ hasText: 'Live' }).waitFor(WAIT);
    expect(await textOf(northRow)).toMatch(/campus-north\s+online\s+31 min \(past the RPO\)\s+1\/2 up/);
    expect(await textOf(southRow)).toMatch(/campus-south\s+online\s+— \(all synced\)\s+1\/1 up/);
    const firmware = page.getByRole('table', { name: 'Firmware versions' });
    expect(await textOf(firmware.getByRole('row').filter({ hasText: 'POS-2.3.0' }))).toContain(north);
    await saveScreenshot(page, 'fleet-ui-03-fleet');

    // Filters: north alone has open alerts (RPO, a till down); the search finds south by its id.
    await page.getByLabel('Has open alerts').check();
    await expect.poll(() => boxes.getByRole('row').filter({ hasText: south }).count()).toBe(0);
    expect(await northRow.count()).toBe(1);
    await page.getByLabel('Has open alerts').uncheck();
    await page.getByLabel('Search').fill(south);
    await expect.poll(() => boxes.getByRole('row').filter({ hasText: north }).count()).toBe(0);
    expect(await southRow.count()).toBe(1);
    await page.getByLabel('Search').fill('');
    await page.getByLabel('Status').selectOption('offline');
    await page.getByText('No box matches these filters.').waitFor(WAIT);
    await page.getByLabel('Status').selectOption('all');
    await page.getByLabel('Site').selectOption('campus-north');
    await expect.poll(() => boxes.getByRole('row').filter({ hasText: south }).count()).toBe(0);
    await page.getByLabel('Site').selectOption('');
    await saveScreenshot(page, 'fleet-ui-04-filters');

    // North's page: its terminals with state and firmware, its charts from the stored history.
    await page.getByRole('link', { name: north }).click();
    await page.getByRole('heading', { name: `Box ${north}` }).waitFor(WAIT);
    const terminals = page.getByRole('table', { name: 'Terminals' });
    expect(await textOf(terminals.getByRole('row').filter({ hasText: 'till-2' }))).toMatch(
      /till-2\s+canteen-pos\s+down\s+POS-2\.3\.0/,
    );
    expect(await textOf(terminals.getByRole('row').filter({ hasText: 'till-1' }))).toMatch(
      /up\s+POS-2\.4\.1/,
    );
    const campaigns = page.getByRole('table', { name: 'Firmware campaigns' });
    expect(await textOf(campaigns.getByRole('row').filter({ hasText: 'fw-20261201-0c0ffee0' }))).toMatch(
      /canteen-pos\s+2\.5\.0\s+paused\s+1 pending, 1 rolled-back/,
    );
    await page.getByText(/^Buffer depth: 10 records/).waitFor(WAIT);
    await page.getByText(/^Oldest unsynced: 31 min/).waitFor(WAIT);
    const depthChart = page.getByRole('img', { name: /Buffer depth over time/ });
    expect(await depthChart.locator('canvas').count()).toBe(1);
    // Heartbeats every second: the chart grows while the page is open (live, not a reload).
    const points = async () =>
      Number(/(\d+) points/.exec((await depthChart.getAttribute('aria-label')) ?? '')?.[1] ?? 0);
    const before = await points();
    await expect.poll(points, WAIT).toBeGreaterThan(before);
    await page
      .getByRole('table', { name: 'Open alerts' })
      .getByRole('row')
      .filter({ hasText: 'FLEET_TERMINAL_DOWN:till-2' })
      .waitFor(WAIT);
    await page
      .getByRole('table', { name: 'Open alerts' })
      .getByRole('row')
      .filter({ hasText: 'FLEET_RPO_EXCEEDED' })
      .waitFor(WAIT);
    await saveScreenshot(page, 'fleet-ui-05-box');

    // South's page; then south loses power. The page was not reloaded: a marker set now survives.
    await page.goto(`${url}/#/boxes/${south}`);
    await page.getByRole('heading', { name: `Box ${south}` }).waitFor(WAIT);
    await page.getByRole('status', { name: 'Live updates' }).filter({ hasText: 'Live' }).waitFor(WAIT);
    await page.evaluate(() => {
      (globalThis as unknown as { notReloaded: boolean }).notReloaded = true;
    });
    expect(await page.getByText('No open alerts.').count()).toBe(1);
    await killed(southBox);
    const openAlerts = page.getByRole('table', { name: 'Open alerts' });
    await openAlerts.getByRole('row').filter({ hasText: 'FLEET_BOX_OFFLINE' }).waitFor(WAIT);
    expect(await textOf(openAlerts.getByRole('row').filter({ hasText: 'FLEET_BOX_OFFLINE' }))).toContain(
      'last-will',
    );
    await page
      .locator('dd')
      .filter({ hasText: /^offline \(last-will\)/ })
      .waitFor(WAIT);
    await saveScreenshot(page, 'fleet-ui-06-offline-alert');

    // It comes back: online again, and the alert moves to the resolved ones, still without a reload.
    southBox = await spawnTelemetryBox(TEST_MQTT_URL, prefix, south, { siteId: 'campus-south' });
    cleanups.push(() => killed(southBox));
    const resolved = page.getByRole('table', { name: 'Resolved alerts' });
    await resolved.getByRole('row').filter({ hasText: 'FLEET_BOX_OFFLINE' }).waitFor(WAIT);
    await page.getByText('No open alerts.').waitFor(WAIT);
    await page
      .locator('dd')
      .filter({ hasText: /^online/ })
      .waitFor(WAIT);
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(
      true,
    );
    await saveScreenshot(page, 'fleet-ui-07-resolved');

    // The alerts page: north's till still open, south's offline resolved.
    await page.getByRole('link', { name: /^Alerts/ }).click();
    await page.getByRole('heading', { name: 'Alerts', exact: true }).waitFor(WAIT);
    await page
      .getByRole('table', { name: 'Open alerts' })
      .getByRole('row')
      .filter({ hasText: 'FLEET_TERMINAL_DOWN:till-2' })
      .waitFor(WAIT);
    const resolvedRow = page
      .getByRole('table', { name: 'Resolved alerts' })
      .getByRole('row')
      .filter({ hasText: south });
    expect(await textOf(resolvedRow)).toContain('FLEET_BOX_OFFLINE');
    await saveScreenshot(page, 'fleet-ui-08-alerts');

    expect(cspViolations).toEqual([]);
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('form', { name: 'Log in' }).waitFor(WAIT);
    await page.reload();
    await page.getByRole('form', { name: 'Log in' }).waitFor(WAIT);
  });
});
