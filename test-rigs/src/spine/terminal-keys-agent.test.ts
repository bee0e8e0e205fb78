import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSm2KeyPair } from '@sceneway/cloud-sync';
import { type DriverContext, type DriverDefinition, defineDriver } from '@sceneway/device-drivers';
import {
  buildBoxConfigSchema,
  DRIVER_REGISTRY,
  type FullBoxConfig,
  provisionTerminalKey,
  silentLogger,
  startAgent,
  TERMINAL_KEYS_FILE,
} from '@sceneway/gateway-agent';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { demoConfigDocument, ensureDemoBoxKeys } from '../demo-site/demo-parts.ts';

/**
 * The agent hands every driver the box's sealed terminal key store as ctx.terminalKeys (POS v2), and an
 * altered store stops the start. A fixture driver records what its context gives it.
 */
let seen: DriverContext | undefined;
const keyedDriver: DriverDefinition = defineDriver({
  id: 'fixture-keyed',
  apiVersion: 2,
  configSchema: z.object({ terminals: z.array(z.string()).min(1) }).strict(),
  emits: ['TerminalStatus'],
  terminalIds: (config) => config.terminals,
  create(ctx) {
    seen = ctx;
    return { start: async () => undefined, stop: async () => undefined };
  },
});

const dataDir = mkdtempSync(join(tmpdir(), 'sceneway-terminal-keys-agent-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function boxConfig(): FullBoxConfig {
  const doc = demoConfigDocument({
    dataDir,
    ports: { admin: 0, broker: 0, bank: 0 },
    bankUrl: 'http://127.0.0.1:9',
    bankPrivateKeyHex: generateSm2KeyPair().privateKeyHex,
    canteenLines: [],
    extraDrivers: [{ driver: 'fixture-keyed', config: { terminals: ['till-k'] } }],
  });
  return buildBoxConfigSchema([...DRIVER_REGISTRY, keyedDriver]).parse({
    ...doc,
    bank: { ...(doc.bank as object), blacklistPollSeconds: 0 },
  }) as FullBoxConfig;
}

describe('the agent and the sealed terminal key store', () => {
  it("serves the provisioned keys to the driver's context, newest first, and refuses an altered store", async () => {
    const secrets = ensureDemoBoxKeys(dataDir);
    const config = boxConfig();
    const v1 = provisionTerminalKey({
      dir: config.keys.dir,
      boxPrivateKeyHex: secrets.privateKeyHex,
      terminalId: 'till-k',
    });
    const v2 = provisionTerminalKey({
      dir: config.keys.dir,
      boxPrivateKeyHex: secrets.privateKeyHex,
      terminalId: 'till-k',
    });
    const registry = [...DRIVER_REGISTRY, keyedDriver];
    const agent = await startAgent({ config, secrets, logger: silentLogger, drivers: registry });
    try {
      const keys = seen?.terminalKeys('till-k') ?? [];
      expect(keys.map((k) => [k.version, Buffer.from(k.key).toString('hex')])).toEqual([
        [2, v2.key.toString('hex')],
        [1, v1.key.toString('hex')],
      ]);
      expect(seen?.terminalKeys('someone-else')).toEqual([]);
    } finally {
      await agent.stop();
    }
    const file = join(config.keys.dir, TERMINAL_KEYS_FILE);
    const sealed = JSON.parse(readFileSync(file, 'utf8')) as { macHex: string };
    writeFileSync(
      file,
      JSON.stringify({
        ...sealed,
        macHex: `${sealed.macHex[0] === 'a' ? 'b' : 'a'}${sealed.macHex.slice(1)}`,
      }),
    );
    await expect(
      startAgent({ config, secrets, logger: silentLogger, drivers: registry }),
    ).rejects.toMatchObject({
      code: 'KEYS_TERMINAL_STORE',
    });
  }, 60_000);
});
