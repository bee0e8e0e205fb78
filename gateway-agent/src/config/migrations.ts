import { GatewayError } from '../gateway-error.ts';
import { CONFIG_VERSION } from './schema.ts';

type RawConfig = Record<string, unknown>;

/**
 * Config migrations, oldest first. Each takes a document of version N and returns version N+1, so a box
 * installed years ago still boots after an upgrade, and `sceneway config validate` shows the migrated form.
 * Version 0 is the pre-release layout (flat `bankUrl`/`bankPublicKey`, `ledgerPath`).
 */
const MIGRATIONS: Record<number, (doc: RawConfig) => RawConfig> = {
  0: (doc) => {
    const { bankUrl, bankPublicKey, ledgerPath, ...rest } = doc;
    const bank = { ...(rest.bank as RawConfig | undefined), url: bankUrl, publicKeyHex: bankPublicKey };
    const ledger = {
      ...(rest.ledger as RawConfig | undefined),
      ...(ledgerPath === undefined ? {} : { path: ledgerPath }),
    };
    return { ...rest, version: 1, bank, ledger };
  },
  // Version 2: the canteen's limits move under scenarios.canteen, and MQTT terminals into drivers[] (each
  // under the driver of its family, which declares its topic ACL). Version 1's mqttTerminals had no
  // driver and their messages went nowhere, so there is nothing to carry over but the installer's intent.
  1: (doc) => {
    const { limits, mqttTerminals, ...rest } = doc;
    if (Array.isArray(mqttTerminals) && mqttTerminals.length > 0) {
      throw new GatewayError(
        'CONFIG_MIGRATION',
        'mqttTerminals: in config version 2 each MQTT terminal is configured under the drivers[] entry of its family',
        'Move each terminal (id, username, passwordHash) into its family driver, e.g. drivers: [{ driver: face-reader, config: { terminals: [...] } }], and set version: 2.',
      );
    }
    const scenarios = (rest.scenarios as RawConfig | undefined) ?? {};
    const canteen = {
      ...(scenarios.canteen as RawConfig | undefined),
      ...(limits === undefined ? {} : { limits }),
    };
    return { ...rest, version: 2, scenarios: { ...scenarios, canteen } };
  },
};

export function migrateConfig(doc: unknown): { doc: unknown; migratedFrom: number | null } {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { doc, migratedFrom: null };
  const raw = doc as RawConfig;
  const declared = raw.version ?? 0;
  if (typeof declared !== 'number' || !Number.isInteger(declared) || declared < 0) {
    throw new GatewayError(
      'CONFIG_INVALID',
      `version: expected a config version number, got ${JSON.stringify(declared)}`,
    );
  }
  if (declared > CONFIG_VERSION) {
    throw new GatewayError(
      'CONFIG_TOO_NEW',
      `version: this agent understands config versions up to ${CONFIG_VERSION}, the file says ${declared}`,
      'Upgrade the agent, or use a config written for this version.',
    );
  }
  let current = raw;
  for (let v = declared; v < CONFIG_VERSION; v++) {
    const step = MIGRATIONS[v];
    if (!step) throw new GatewayError('CONFIG_INVALID', `version: no migration from version ${v}`);
    current = step(current);
  }
  return { doc: current, migratedFrom: declared === CONFIG_VERSION ? null : declared };
}
