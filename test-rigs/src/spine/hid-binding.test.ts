import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSm2KeyPair } from '@sceneway/cloud-sync';
import { createHidTransportFactory, encodeKeyboardWedge } from '@sceneway/device-drivers';
import { createFakeUsbBus } from '@sceneway/device-drivers/testing';
import { parseBoxConfig, type RunningAgent, silentLogger, startAgent } from '@sceneway/gateway-agent';
import { waitFor } from '@sceneway/gateway-agent/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoConfigDocument, ensureDemoBoxKeys, provisionDemoTills } from '../demo-site/demo-parts.ts';
import { openPtyPair, type PtyPair } from '../pty/pty-pair.ts';
import { type CanteenPosSim, startCanteenPosSim } from '../sim-canteen-pos/index.ts';

/**
 * A till without its own card reader pays with the USB HID reader bound to it
 * (`scenarios.canteen.readerBindings`): the real canteen-pos driver on a socat pty, the real hid-reader
 * driver and HID transport on a recorded-style USB bus (only node-hid's device list and open are
 * replaced), the real agent, canteen scenario and ledger.
 */
const TILL = 'window-3-till';
const READER = 'window-3-reader';
const DEVICE = { vendorId: 0x1a86, productId: 0xe026, path: '/dev/hidraw3', serialNumber: 'W3' };
const CARD = '04A1B2C3D4';

let dataDir: string;
let pair: PtyPair;
let sim: CanteenPosSim;
let agent: RunningAgent;
const bus = createFakeUsbBus();

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'sceneway-hid-binding-'));
  mkdirSync(join(dataDir, 'pty'));
  pair = await openPtyPair(join(dataDir, 'pty'));
  bus.plug(DEVICE);
  const doc = demoConfigDocument({
    dataDir,
    ports: { admin: 0, broker: 0, bank: 0 },
    bankUrl: 'http://127.0.0.1:9', // offline: sales under the floor limit are approved by the box alone
    bankPrivateKeyHex: generateSm2KeyPair().privateKeyHex,
    canteenLines: [{ path: pair.a, terminalId: TILL }],
    extraDrivers: [
      {
        driver: 'hid-reader',
        config: {
          id: READER,
          vendorId: DEVICE.vendorId,
          productId: DEVICE.productId,
          format: 'keyboard-wedge',
        },
      },
    ],
    readerBindings: [{ reader: READER, till: TILL }],
  });
  const { config } = parseBoxConfig({ ...doc, bank: { ...(doc.bank as object), blacklistPollSeconds: 0 } });
  const secrets = ensureDemoBoxKeys(dataDir);
  const tillKey = provisionDemoTills(config, secrets).get(TILL);
  agent = await startAgent({
    config,
    secrets,
    logger: silentLogger,
    transports: { hid: createHidTransportFactory(bus.api) },
  });
  sim = await startCanteenPosSim({ path: pair.b, baudRate: 115200, ...(tillKey ? { key: tillKey } : {}) });
  await waitFor(
    () => [TILL, READER].every((id) => agent.status().terminals.some((t) => t.id === id && t.up)),
    'the till and the reader to come up',
    15_000,
  );
}, 60_000);

afterAll(async () => {
  await sim?.close();
  await agent?.stop();
  await pair?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function swipeOnReader(uid: string): Promise<void> {
  for (const report of encodeKeyboardWedge(uid)) expect(bus.send(DEVICE.path, report)).toBe(true);
  // The reports travel transport → driver → agent in the same turn; let its promise callbacks run.
  await new Promise((resolve) => setImmediate(resolve));
}

describe('a HID reader bound to a till', () => {
  it('declines a till sale when nobody presented a card on its reader', async () => {
    const result = await sim.till().payOnBoundReader(900);
    expect(result.decision).toEqual({ outcome: 'declined', reason: 'NO_CREDENTIAL' });
  });

  it('pays the till sale with the card presented on the bound reader, once', async () => {
    await swipeOnReader(CARD);
    const paid = await sim.till().payOnBoundReader(1200);
    expect(paid.decision).toEqual({ outcome: 'approved' });
    const record = agent.ledger.findByIdempotencyKey(`sale:${TILL}:${paid.receiptNo}`);
    expect(record).toMatchObject({ kind: 'sale', amountFen: 1200, terminalId: TILL });
    expect(record?.piiDigest).toMatch(/^[0-9a-f]{64}$/);
    // One read pays one tray: the next sale finds no card waiting.
    const again = await sim.till().payOnBoundReader(1200);
    expect(again.decision).toEqual({ outcome: 'declined', reason: 'NO_CREDENTIAL' });
  });

  it('says so when the box has no holder key yet (no enrolment answer): unkeyed digests (D27)', () => {
    expect(agent.alerts.list().map((a) => a.code)).toContain('CANTEEN_HOLDER_KEY_MISSING');
  });

  it('refuses a binding that names a terminal the box does not have, naming the field', () => {
    const doc = demoConfigDocument({
      dataDir,
      ports: { admin: 0, broker: 0, bank: 0 },
      bankUrl: 'http://127.0.0.1:9',
      bankPrivateKeyHex: generateSm2KeyPair().privateKeyHex,
      canteenLines: [{ path: pair.a, terminalId: TILL }],
      readerBindings: [{ reader: 'no-such-reader', till: TILL }],
    });
    expect(() => parseBoxConfig(doc)).toThrow(/scenarios\.canteen\.readerBindings\[0\]\.reader: no terminal/);
  });
});
