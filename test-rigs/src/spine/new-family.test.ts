import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSm2KeyPair, sm2PublicKeyOf } from '@sceneway/cloud-sync';
import {
  type DriverDefinition,
  defineDriver,
  mqttLoginSchema,
  type TerminalEventOf,
} from '@sceneway/device-drivers';
import {
  buildBoxConfigSchema,
  DRIVER_REGISTRY,
  type FullBoxConfig,
  hashPassword,
  type RunningAgent,
  silentLogger,
  startAgent,
} from '@sceneway/gateway-agent';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { demoConfigDocument, ensureDemoBoxKeys } from '../demo-site/demo-parts.ts';

/**
 * DESIGN "Seams": a new terminal family is one driver folder plus one registry line. This family, a
 * self-service kiosk that pays over MQTT, exists only in this file: no edit to agent.ts, to the transport
 * union or to the config root. It declares its MQTT logins and topic ACL as data, turns JSON messages into
 * the neutral SaleRequested event, and publishes the canteen scenario's answer back to the kiosk.
 */
const kioskConfigSchema = z
  .object({ terminals: z.array(mqttLoginSchema.extend({ id: z.string().min(1) }).strict()).min(1) })
  .strict();

const saleMessage = z.object({
  receiptNo: z.number().int(),
  amountFen: z.number().int(),
  cardUid: z.string(),
});

const kioskDriver: DriverDefinition = defineDriver({
  id: 'fixture-kiosk',
  apiVersion: 2,
  configSchema: kioskConfigSchema,
  emits: ['SaleRequested', 'TerminalStatus'],
  terminalIds: (config) => config.terminals.map((t) => t.id),
  mqttTerminals: (config) =>
    config.terminals.map((t) => ({
      terminalId: t.id,
      username: t.username,
      passwordHash: t.passwordHash,
      publish: ['sale'],
      subscribe: ['result'],
    })),
  create(ctx, config) {
    const opened: Array<{ close(): Promise<void> }> = [];
    return {
      async start() {
        for (const t of config.terminals) {
          const topics = await ctx.transports.open({ kind: 'mqtt', terminalId: t.id });
          opened.push(topics);
          topics.onConnection((up) => void ctx.submit({ type: 'TerminalStatus', terminalId: t.id, up }));
          topics.onMessage(async (subtopic, payload) => {
            const parsed = saleMessage.safeParse(JSON.parse(payload.toString('utf8')));
            if (subtopic !== 'sale' || !parsed.success) return;
            const event: TerminalEventOf<'SaleRequested'> = {
              type: 'SaleRequested',
              terminalId: t.id,
              sale: {
                receiptNo: parsed.data.receiptNo,
                amountFen: parsed.data.amountFen,
                credential: { kind: 'card', uidHex: parsed.data.cardUid },
                terminalTime: Math.floor(ctx.clock.now() / 1000),
                offline: false,
              },
            };
            const decision = await ctx.submit(event);
            await topics.publish('result', JSON.stringify({ receiptNo: parsed.data.receiptNo, ...decision }));
          });
        }
      },
      async stop() {
        await Promise.all(opened.splice(0).map((t) => t.close()));
      },
    };
  },
});

const PASSWORD = 'kiosk-secret-1';
let dataDir: string;
let agent: RunningAgent;
let config: FullBoxConfig;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sceneway-spine-'));
  const secrets = ensureDemoBoxKeys(dataDir);
  const bankKey = generateSm2KeyPair().privateKeyHex;
  const doc = demoConfigDocument({
    dataDir,
    ports: { admin: 0, broker: 0, bank: 0 },
    // No bank is needed to decide: a sale under the floor limit is approved offline.
    bankUrl: 'http://127.0.0.1:9',
    bankPrivateKeyHex: bankKey,
    canteenLines: [],
    extraDrivers: [
      {
        driver: 'fixture-kiosk',
        config: { terminals: [{ id: 'kiosk-1', username: 'kiosk-1', passwordHash: hashPassword(PASSWORD) }] },
      },
    ],
  });
  expect(sm2PublicKeyOf(bankKey)).toMatch(/^04/);
  const registry = [...DRIVER_REGISTRY, kioskDriver];
  config = buildBoxConfigSchema(registry).parse({
    ...doc,
    bank: { ...(doc.bank as object), blacklistPollSeconds: 0 },
  }) as FullBoxConfig;
  agent = await startAgent({ config, secrets, logger: silentLogger, drivers: registry });
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

function connectKiosk(password = PASSWORD) {
  const { host, port } = agent.broker.tcpAddress;
  return mqtt.connectAsync(`mqtt://${host}:${port}`, {
    clientId: 'kiosk-1', // a client id is the terminal's own (D25)
    username: 'kiosk-1',
    password,
    reconnectPeriod: 0,
  });
}

describe('a terminal family added without touching the agent', () => {
  it('runs the agent as its parts in dependency order: the ledger first, terminals after the broker', () => {
    expect(agent.parts()).toEqual([
      'ledger',
      'retention',
      'bank-client',
      'reconciliation',
      'uploader',
      'scenarios',
      'broker',
      'drivers',
      'firmware', // campaigns deliver through the drivers' seams, and resume once they run
      'admin',
      'sm2-warm-up',
    ]);
  });

  it('pays a sale over MQTT through the canteen scenario, durable in the ledger before the answer', async () => {
    const kiosk = await connectKiosk();
    try {
      await kiosk.subscribeAsync('sceneway/t/kiosk-1/result', { qos: 1 });
      const answer = new Promise<Record<string, unknown>>((resolve) =>
        kiosk.on('message', (_topic, payload) => resolve(JSON.parse(payload.toString()))),
      );
      await kiosk.publishAsync(
        'sceneway/t/kiosk-1/sale',
        JSON.stringify({ receiptNo: 7, amountFen: 1500, cardUid: '04A1B2C3D4' }),
        { qos: 1 },
      );
      expect(await answer).toMatchObject({ receiptNo: 7, outcome: 'approved' });
      expect(agent.ledger.findByIdempotencyKey('sale:kiosk-1:7')).toMatchObject({
        kind: 'sale',
        amountFen: 1500,
        terminalId: 'kiosk-1',
      });
      expect(agent.status().terminals).toContainEqual(expect.objectContaining({ id: 'kiosk-1', up: true }));
    } finally {
      await kiosk.endAsync();
    }
  });

  it('enforces the ACL the family declared: its own answers cannot be forged, others cannot be read', async () => {
    const kiosk = await connectKiosk();
    try {
      const granted = await kiosk.subscribeAsync('sceneway/t/kiosk-1/result', { qos: 1 });
      expect(granted.map((g) => g.qos)).toEqual([1]);
      // SUBACK 0x80: its own sale topic is not one it may read back, nor another terminal's.
      await expect(kiosk.subscribeAsync('sceneway/t/kiosk-1/sale')).rejects.toThrow(/Subscribe error/);
      await expect(kiosk.subscribeAsync('sceneway/t/kiosk-2/result')).rejects.toThrow(/Subscribe error/);
      const closed = new Promise<void>((resolve) => kiosk.once('close', () => resolve()));
      // The result topic is the box's: a kiosk publishing there is disconnected (MQTT 3.1.1 has no NACK).
      kiosk.publish('sceneway/t/kiosk-1/result', '{"outcome":"approved"}', { qos: 1 });
      await closed;
    } finally {
      await kiosk.endAsync(true);
    }
  });

  it('refuses a kiosk with the wrong password', async () => {
    await expect(connectKiosk('wrong')).rejects.toThrow(/Bad username or password|Not authorized/i);
  });
});
