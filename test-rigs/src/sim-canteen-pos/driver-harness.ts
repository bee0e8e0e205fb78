import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  ByteTransportFactory,
  CanteenPosConfigInput,
  DriverInstance,
  DriverLogger,
  SaleDecision,
  SaleRequest,
  VoidRequest,
} from '@sceneway/device-drivers';
import {
  canteenPosConfigSchema,
  canteenPosDriver,
  createMemoryTransports,
  createSerialTransportFactory,
  type MemoryPort,
} from '@sceneway/device-drivers';
import {
  createTestDriverContext,
  type DeviceEvent,
  quietDriverLogger,
} from '@sceneway/device-drivers/testing';
import { openPtyPair, type PtyPair } from '../pty/pty-pair.ts';
import type { TillKey } from './wire/index.ts';

/**
 * The real canteen POS driver on one end of a line, with the agent's side played by the caller's
 * decide functions. The line is either the in-memory transport (driver unit tests: fast, and a test
 * can hold writes or pull the cable at an exact point) or a socat pty pair through the production
 * serial transport (the conformance suite and the simulator's CLI, which runs in another process).
 * Framing, codec and driver are production code either way.
 */
export interface DriverHarnessOptions {
  decideSale(terminalId: string, sale: SaleRequest): Promise<SaleDecision> | SaleDecision;
  decideVoid?(terminalId: string, request: VoidRequest): Promise<SaleDecision> | SaleDecision;
  config?: Partial<Omit<CanteenPosConfigInput, 'port'>>;
  logger?: DriverLogger;
  /** Default 'pty'. */
  line?: 'memory' | 'pty';
}

export interface DriverHarness {
  driver: DriverInstance;
  events: DeviceEvent[];
  saleCalls: Array<{ terminalId: string; sale: SaleRequest }>;
  /**
   * Where a simulator opens the terminal's end of the line, and the key of each v2 till by address (as
   * an installer loads it after `sceneway terminal provision`): pass it to startCanteenPosSim.
   */
  readonly simLine: { path: string; transports?: ByteTransportFactory; keys?: Record<number, TillKey> };
  /** The pty pair (line 'pty' only; throws on the memory line). */
  readonly pair: PtyPair;
  /** The line itself (line 'memory' only; throws on a pty). */
  readonly memoryPort: MemoryPort;
  /** Successful opens of the driver's port through the context's transport factory. */
  readonly portOpens: number;
  /** Resolves with the first event (from now, or already seen after `since`) that matches. */
  waitForEvent(match: (e: DeviceEvent) => boolean, timeoutMs?: number, since?: number): Promise<DeviceEvent>;
  /** Aborts the context's AbortSignal, as the agent does when it shuts down. */
  abortSignal(): void;
  /** Unplug: both ends of the line vanish (socat dies / the memory port goes absent). */
  unplug(): Promise<void>;
  /** Replug: the same line names come back. */
  replug(): Promise<void>;
  close(): Promise<void>;
}

export const silentLogger: DriverLogger = quietDriverLogger;

const MEMORY_PATH = '/dev/ttyMEM-canteen';

interface Line {
  driverPath: string;
  simLine: DriverHarness['simLine'];
  transports: ByteTransportFactory;
  pair(): PtyPair;
  memoryPort(): MemoryPort;
  unplug(): Promise<void>;
  replug(): Promise<void>;
  close(): Promise<void>;
}

async function ptyLine(): Promise<Line> {
  const dir = mkdtempSync(join(tmpdir(), 'canteen-pos-'));
  let pair = await openPtyPair(dir);
  return {
    driverPath: pair.a,
    simLine: { path: pair.b },
    transports: createSerialTransportFactory(),
    pair: () => pair,
    memoryPort: () => {
      throw new Error('this harness runs on a pty pair; start it with line: "memory" for a memory port');
    },
    unplug: () => pair.close(),
    async replug() {
      pair = await openPtyPair(dir);
    },
    async close() {
      await pair.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function memoryLine(): Line {
  const memory = createMemoryTransports();
  const port = memory.port(MEMORY_PATH);
  return {
    driverPath: MEMORY_PATH,
    simLine: { path: MEMORY_PATH, transports: memory.devices },
    transports: memory,
    pair: () => {
      throw new Error('this harness runs on the memory transport; start it with line: "pty" for a pty pair');
    },
    memoryPort: () => port,
    async unplug() {
      port.unplug();
    },
    async replug() {
      port.plug();
    },
    async close() {
      port.unplug();
    },
  };
}

export async function startDriverHarness(options: DriverHarnessOptions): Promise<DriverHarness> {
  const line = options.line === 'memory' ? memoryLine() : await ptyLine();
  const terminals = options.config?.terminals ?? [{ id: 'till-1', address: 1 }];
  // Every v2 till (the default) gets a fresh key of its own, provisioned on both ends of the line.
  const keyById = new Map<string, TillKey>();
  const keyByAddress: Record<number, TillKey> = {};
  for (const t of terminals) {
    if ((t.protocol ?? 2) !== 2) continue;
    const key = { version: 1, key: randomBytes(32) };
    keyById.set(t.id, key);
    keyByAddress[t.address ?? 1] = key;
  }
  const test = createTestDriverContext({
    terminalKeys: (id) => {
      const key = keyById.get(id);
      return key ? [key] : [];
    },
    transports: line.transports,
    logger: options.logger ?? silentLogger,
    decideSale: options.decideSale,
    decideVoid:
      options.decideVoid ??
      (() => ({ outcome: 'declined', reason: 'VOID_NOT_ALLOWED', displayText: '不可撤销' })),
  });
  const parsed = canteenPosConfigSchema.safeParse({
    ackTimeoutMs: 150,
    silenceTimeoutMs: 1000,
    pollIntervalMs: 20,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    ...options.config,
    terminals,
    port: { path: line.driverPath },
  });
  if (!parsed.success) {
    await line.close();
    throw parsed.error;
  }
  const driver = canteenPosDriver.create(test.ctx, parsed.data);

  return {
    driver,
    events: test.events,
    saleCalls: test.saleCalls,
    simLine: { ...line.simLine, ...(keyById.size > 0 ? { keys: keyByAddress } : {}) },
    get pair() {
      return line.pair();
    },
    get memoryPort() {
      return line.memoryPort();
    },
    get portOpens() {
      return test.transportOpens();
    },
    waitForEvent: test.waitForEvent,
    abortSignal: test.abort,
    unplug: line.unplug,
    replug: line.replug,
    async close() {
      await driver.stop();
      test.abort();
      await line.close();
    },
  };
}
