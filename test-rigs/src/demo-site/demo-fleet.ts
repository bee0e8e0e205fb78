import { randomBytes, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';
import { type FleetServer, SqlFleetStore, sqliteRunner, startFleetServer } from '@sceneway/dashboards';
import { hashPassword } from '@sceneway/gateway-agent';
import { Aedes } from 'aedes';
import type { Logger } from 'pino';

/**
 * The demo's fleet side (issue #14 item 5): a fleet broker the demo owns and one fleet-server replica
 * on SQLite under the demo data dir, with the ops dashboard on.
 *
 * The broker is an embedded aedes on its own port, not the agent's terminal broker: the fleet broker
 * stands for one off the site (the link a box loses when the site goes dark, so its last will means
 * something), and the terminal broker admits only terminal identities inside their own topics. aedes
 * speaks MQTT 3.1.1 without shared subscriptions, so the lone replica subscribes plainly
 * (shareGroup null). The box logs in with a generated password (kept 0600 in the data dir, as
 * telemetry.passwordPath wants it); the fleet server with another: nobody else on the machine speaks
 * for the box.
 */
export interface DemoFleetPorts {
  /** The fleet API and ops dashboard (SCENEWAY_FLEET_PORT, 8090). */
  fleet: number;
  /** The demo's fleet broker (SCENEWAY_FLEET_BROKER_PORT, 0 = any). */
  fleetBroker: number;
}

export function fleetPortsFromEnv(env: NodeJS.ProcessEnv): DemoFleetPorts {
  const read = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`${name}=${raw}: expected a TCP port 0-65535 (0 = any free port)`);
    return port;
  };
  return { fleet: read('SCENEWAY_FLEET_PORT', 8090), fleetBroker: read('SCENEWAY_FLEET_BROKER_PORT', 0) };
}

/** A password for a demo login: printed once at start, never stored in clear (only its scrypt hash). */
export function demoPassword(): { password: string; hash: string } {
  const password = randomBytes(12).toString('base64url');
  return { password, hash: hashPassword(password) };
}

export const DEMO_FLEET_USER = 'ops';
/** The topic prefix of the demo box's telemetry (the agent's default). */
export const DEMO_TELEMETRY_PREFIX = 'sceneway/fleet';

export interface DemoFleet {
  /** The agent's `telemetry` config section for this broker. */
  telemetry: Record<string, unknown>;
  brokerUrl: string;
  fleet: FleetServer;
  /** The bearer token of the fleet's machine API, in this 0600 file (never printed). */
  tokenFile: string;
  /** The ops dashboard login: user and the password generated for this run. */
  login: { user: string; password: string };
  stop(): Promise<void>;
}

export async function startDemoFleet(options: {
  dataDir: string;
  ports: DemoFleetPorts;
  logger: Logger;
}): Promise<DemoFleet> {
  const { dataDir, ports, logger } = options;
  const boxSecret = randomBytes(18).toString('base64url');
  const fleetSecret = randomBytes(18).toString('base64url');
  const logins = new Map([
    ['demo-box', Buffer.from(boxSecret)],
    ['fleet-server', Buffer.from(fleetSecret)],
  ]);
  const aedes = await Aedes.createBroker();
  aedes.authenticate = (_client, username, password, done) => {
    const expected = username === undefined ? undefined : logins.get(username);
    const ok =
      expected !== undefined &&
      password !== undefined &&
      password.length === expected.length &&
      timingSafeEqual(password, expected);
    done(null, ok);
  };
  const broker = createServer((socket) => aedes.handle(socket));
  await new Promise<void>((resolve, reject) => {
    broker.once('error', reject);
    broker.listen(ports.fleetBroker, '127.0.0.1', () => resolve());
  });
  const brokerUrl = `mqtt://127.0.0.1:${(broker.address() as AddressInfo).port}`;
  const closeBroker = async () => {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  };

  const passwordPath = join(dataDir, 'fleet-broker-password');
  writeFileSync(passwordPath, `${boxSecret}\n`, { mode: 0o600 });
  const token = randomBytes(24).toString('hex');
  const tokenFile = join(dataDir, 'fleet-api-token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const { password, hash } = demoPassword();
  let fleet: FleetServer;
  try {
    fleet = await startFleetServer({
      store: new SqlFleetStore(sqliteRunner(join(dataDir, 'fleet.db'))),
      mqtt: {
        url: brokerUrl,
        username: 'fleet-server',
        password: fleetSecret,
        topicPrefix: DEMO_TELEMETRY_PREFIX,
        shareGroup: null,
      },
      http: { host: '127.0.0.1', port: ports.fleet },
      token,
      ui: { users: [{ name: DEMO_FLEET_USER, passwordHash: hash }] },
      logger: logger.child({ part: 'fleet-server' }),
    });
  } catch (err) {
    await closeBroker();
    throw err;
  }
  return {
    telemetry: {
      url: brokerUrl,
      username: 'demo-box',
      passwordPath,
      // Every 10 s, so the dashboard moves while one watches; the fleet marks it offline after 90 s.
      intervalSeconds: 10,
      topicPrefix: DEMO_TELEMETRY_PREFIX,
    },
    brokerUrl,
    fleet,
    tokenFile,
    login: { user: DEMO_FLEET_USER, password },
    async stop() {
      await fleet.close();
      await closeBroker();
    },
  };
}
