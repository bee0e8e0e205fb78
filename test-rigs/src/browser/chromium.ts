import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

/**
 * Debian's Chromium, driven by playwright-core (no downloaded browser: CI installs the `chromium`
 * package). `--no-sandbox` because CI runs as root; `--disable-background-networking` so the browser
 * never reaches for the internet the machine does not have.
 */
export const CHROMIUM_PATH = process.env.SCENEWAY_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: install Debian's package (apt-get install chromium) or set SCENEWAY_CHROMIUM`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
}

/** Where browser tests leave their screenshots (gitignored), from the repository root. */
export const TEST_RESULTS_DIR = resolve(import.meta.dirname, '../../../test-results');

/** Saves a full-page screenshot as test-results/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(TEST_RESULTS_DIR, { recursive: true });
  const path = join(TEST_RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
