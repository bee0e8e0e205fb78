import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildOpsDashboard,
  type FleetServer,
  type FleetUiOptions,
  SqlFleetStore,
  sqliteRunner,
  startFleetServer,
  uiUsersFromFile,
} from '@sceneway/dashboards';
import { TEST_MQTT_URL, uniquePrefix } from '@sceneway/dashboards/testing';
import { hashPassword } from '@sceneway/gateway-agent';
import pino from 'pino';

export const OPS_USER = 'ops';
export const OPS_PASSWORD = 'canteen-fleet-watch-7319';
export const FLEET_TOKEN = 'fleet-ui-test-token-0123456789';

/** What `secret.txt` beside the served folder holds: a traversal that escapes the build would show it. */
export const BESIDE_WEB_ROOT = 'TOP-SECRET-beside-the-web-root';

/**
 * One build of the dashboard per test file, into its own folder: the front-end under test is served.
 * A file sits beside that folder (`../secret.txt`), so a path traversal has something to find.
 */
export async function builtDashboard(): Promise<{ dir: string; remove(): void }> {
  const outer = mkdtempSync(join(tmpdir(), 'sceneway-ops-web-'));
  const dir = join(outer, 'web');
  await buildOpsDashboard({ outDir: dir });
  writeFileSync(join(outer, 'secret.txt'), BESIDE_WEB_ROOT);
  return { dir, remove: () => rmSync(outer, { recursive: true, force: true }) };
}

/**
 * A fleet server on port 0 with the dashboard on, its users from a real 0600 --ui-users file (the
 * hash as `sceneway broker hash-password` makes it), on the shared Mosquitto under a fresh prefix.
 */
export async function startFleetWithUi(
  webRoot: string | undefined,
  ui: Partial<FleetUiOptions> = {},
): Promise<{ fleet: FleetServer; prefix: string; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-fleet-ui-'));
  const usersFile = join(dir, 'ui-users');
  writeFileSync(usersFile, `# ops dashboard users\n${OPS_USER}:${hashPassword(OPS_PASSWORD)}\n`, {
    mode: 0o600,
  });
  const prefix = uniquePrefix(`ui-${randomBytes(2).toString('hex')}`);
  const fleet = await startFleetServer({
    store: new SqlFleetStore(sqliteRunner(join(dir, 'fleet.db'))),
    mqtt: { url: TEST_MQTT_URL, topicPrefix: prefix, shareGroup: 'ui' },
    http: { host: '127.0.0.1', port: 0 },
    token: FLEET_TOKEN,
    sweepSeconds: 3600,
    logger: pino({ level: 'silent' }),
    ui: { users: uiUsersFromFile(usersFile), ...(webRoot ? { webRoot } : {}), sse: { flushMs: 100 }, ...ui },
  });
  return {
    fleet,
    prefix,
    async close() {
      await fleet.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
