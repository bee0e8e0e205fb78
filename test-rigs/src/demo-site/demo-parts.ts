import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { sm2PublicKeyOf } from '@sceneway/cloud-sync';
import {
  type BankServer,
  enrolFromRequest,
  enrolmentAnswerFor,
  initBankKeys,
  loadBankPrivateKey,
  startBankServer,
} from '@sceneway/cloud-sync/bank';
import type { FullBoxConfig } from '@sceneway/gateway-agent';
import {
  type BoxSecrets,
  boxEnrolmentRequest,
  ENROLMENT_ANSWER_FILE,
  importEnrolmentAnswer,
  initBoxKeys,
  loadBoxKeys,
  openTerminalKeyStore,
  parseBoxConfig,
  provisionTerminalKey,
} from '@sceneway/gateway-agent';
import type { TillKey } from '../sim-canteen-pos/index.ts';
import { publishDemoBlacklist } from './scripted-day.ts';

/**
 * The demo's passphrase for the box key. A real box gets one from the installer (see
 * `sceneway keys init`); the demo keeps its data under ./data/demo and says so when it starts.
 */
export const DEMO_PASSPHRASE = 'sceneway-demo-only-passphrase';

export const DEMO_BOX_ID = 'demo-box-1';

export interface DemoPorts {
  admin: number;
  broker: number;
  bank: number;
}

export function portsFromEnv(env: NodeJS.ProcessEnv): DemoPorts {
  const read = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const port = Number(raw);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new Error(`${name}=${raw}: expected a TCP port 0-65535 (0 = any free port)`);
    }
    return port;
  };
  return {
    admin: read('SCENEWAY_ADMIN_PORT', 8080),
    broker: read('SCENEWAY_BROKER_PORT', 0),
    bank: read('SCENEWAY_BANK_PORT', 9080),
  };
}

/**
 * The reference bank with its key pair kept in the data folder, so a second start is the same bank;
 * it serves the demo blacklist and takes the box's daily reconciliation reports.
 */
export async function startDemoBank(
  dataDir: string,
  port: number,
  log: { level?: string; destination?: NodeJS.WritableStream } = {},
): Promise<{ bank: BankServer; privateKeyHex: string }> {
  const keyDir = join(dataDir, 'bank-keys');
  if (!existsSync(join(keyDir, 'bank-key.pem'))) initBankKeys(keyDir);
  const privateKeyHex = loadBankPrivateKey(join(keyDir, 'bank-key.pem'));
  const blacklistDir = join(dataDir, 'bank-blacklist');
  publishDemoBlacklist(blacklistDir, privateKeyHex);
  const bank = await startBankServer({
    bankPrivateKeyHex: privateKeyHex,
    dbPath: join(dataDir, 'bank.db'),
    port,
    logLevel: log.level ?? 'warn',
    ...(log.destination ? { logDestination: log.destination } : {}),
    blacklistDir,
    reconDir: join(dataDir, 'bank-recon'),
  });
  return { bank, privateKeyHex };
}

export function ensureDemoBoxKeys(dataDir: string): BoxSecrets {
  const dir = join(dataDir, 'keys');
  if (!existsSync(join(dir, 'box-key.json'))) initBoxKeys({ dir, passphrase: DEMO_PASSPHRASE });
  return loadBoxKeys({ dir, passphrase: DEMO_PASSPHRASE });
}

export interface DemoConfigOptions {
  dataDir: string;
  ports: DemoPorts;
  bankUrl: string;
  bankPrivateKeyHex: string;
  canteenLines: Array<{ path: string; terminalId: string }>;
  /** More drivers[] entries (a HID reader, a test's own family), after the canteen lines. */
  extraDrivers?: Array<{ driver: string; config: unknown }>;
  readerBindings?: Array<{ reader: string; till: string }>;
  /**
   * The tills' POS protocol: 2 (default; keys from `provisionDemoTills`) or 1, the legacy protocol,
   * with the insecure acknowledgement a real box would need for it (a bench compares the two).
   */
  tillProtocol?: 1 | 2;
  /** `scenarios.parking`, when the demo runs a parking lot. */
  parking?: Record<string, unknown>;
  /** `scenarios.gates`, when the demo runs campus gates. */
  gates?: Record<string, unknown>;
  /** `telemetry`: the uplink to a fleet broker (issue #14); absent, the box sends none. */
  telemetry?: Record<string, unknown>;
  /** `admin.installer.passwordHash`: the installer UI at /ui/ on the admin listener; absent = off. */
  installerPasswordHash?: string;
  /** The box id (default demo-box-1): tests on the machine's shared Mosquitto need their own MQTT client id. */
  boxId?: string;
}

/** The demo box config: the same schema, loader and validation a real box config goes through. */
export function demoBoxConfig(options: DemoConfigOptions): FullBoxConfig {
  return parseBoxConfig(demoConfigDocument(options)).config;
}

/** The demo config as the document a box's YAML file would hold (before validation). */
export function demoConfigDocument(options: DemoConfigOptions): Record<string, unknown> {
  mkdirSync(options.dataDir, { recursive: true });
  return {
    version: 2,
    site: { id: 'demo-campus', name: 'Demo campus canteen' },
    box: { id: options.boxId ?? DEMO_BOX_ID },
    bank: {
      url: options.bankUrl,
      publicKeyHex: sm2PublicKeyOf(options.bankPrivateKeyHex),
      blacklistPollSeconds: 30,
    },
    ledger: { path: join(options.dataDir, 'ledger.db'), freeSpaceFloorMb: 16 },
    reconciliation: { dir: join(options.dataDir, 'recon') },
    keys: { dir: join(options.dataDir, 'keys') },
    broker: { tcp: { host: '127.0.0.1', port: options.ports.broker } },
    admin: {
      host: '127.0.0.1',
      port: options.ports.admin,
      ...(options.installerPasswordHash
        ? { installer: { passwordHash: options.installerPasswordHash } }
        : {}),
    },
    sync: { maxRecords: 200, maxAgeMs: 2000, backoffBaseMs: 500, backoffCapMs: 10_000 },
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    scenarios: {
      canteen: { readerBindings: options.readerBindings ?? [] },
      ...(options.parking ? { parking: options.parking } : {}),
      ...(options.gates ? { gates: options.gates } : {}),
    },
    drivers: [
      ...options.canteenLines.map((line) => ({
        driver: 'canteen-pos',
        config: {
          port: { path: line.path, baudRate: 115200 },
          mode: 'rs232',
          // On RS-232 a till speaks when it has something to say; polling is only its heartbeat.
          pollIntervalMs: 1000,
          terminals: [
            options.tillProtocol === 1
              ? { id: line.terminalId, address: 1, protocol: 1, insecure: { posProtocolV1: true } }
              : { id: line.terminalId, address: 1 },
          ],
        },
      })),
      ...(options.extraDrivers ?? []),
    ],
  };
}

/**
 * Commissions the demo's v2 tills as an installer does with `sceneway terminal provision <id>`: a key
 * per till in the box's sealed store (kept across demo runs), returned for loading into the simulated
 * till. Call before the agent starts: it reads the store once.
 */
export function provisionDemoTills(config: FullBoxConfig, secrets: BoxSecrets): Map<string, TillKey> {
  const dir = config.keys.dir;
  const keys = new Map<string, TillKey>();
  // Read once: a key provisioned below is for a till this loop has already passed.
  const stored = openTerminalKeyStore({ dir, boxPrivateKeyHex: secrets.privateKeyHex });
  for (const entry of config.drivers) {
    if (entry.driver !== 'canteen-pos') continue;
    const { terminals } = entry.config as { terminals: Array<{ id: string; protocol?: number }> };
    for (const till of terminals) {
      if ((till.protocol ?? 2) !== 2) continue;
      const key =
        stored.keys(till.id)[0] ??
        provisionTerminalKey({ dir, boxPrivateKeyHex: secrets.privateKeyHex, terminalId: till.id });
      keys.set(till.id, { version: key.version, key: Buffer.from(key.key) });
    }
  }
  return keys;
}

/**
 * Enrols the box with the bank the way a site does: the box's signed request, imported by the bank
 * (`sceneway-bank enrol`), and the bank's signed answer with the holder key, imported by the box
 * (`sceneway keys enrolment-answer`, D27). A demo data folder from before D27 gets its answer too.
 */
export async function enrolBox(
  bank: BankServer,
  config: FullBoxConfig,
  secrets: BoxSecrets,
  bankPrivateKeyHex: string,
): Promise<void> {
  if (!(await bank.store.getBox(config.box.id))) {
    await enrolFromRequest(bank.store, boxEnrolmentRequest(config, secrets), new Date());
  }
  if (existsSync(join(config.keys.dir, ENROLMENT_ANSWER_FILE))) return;
  const answer = await enrolmentAnswerFor(bank.store, config.box.id, bankPrivateKeyHex, new Date());
  importEnrolmentAnswer(
    {
      dir: config.keys.dir,
      boxId: config.box.id,
      privateKeyHex: secrets.privateKeyHex,
      bankPublicKeyHex: config.bank.publicKeyHex,
      bankUserId: config.bank.userId,
    },
    answer,
  );
}
