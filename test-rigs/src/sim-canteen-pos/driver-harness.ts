import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canteenPosConfigSchema, canteenPosDriver } from '@sceneway/device-drivers/canteen-pos/index';
import type { CanteenPosConfigInput } from '@sceneway/device-drivers/canteen-pos/schema';
import type {
  DriverInstance,
  DriverLogger,
  SaleDecision,
  SaleRequest,
  VoidRequest,
} from '@sceneway/device-drivers/driver-api';
import {
  createRecordingContext,
  type RecordedEvent as DeviceEvent,
} from '@sceneway/device-drivers/testing/recording-context';
import { createSerialTransportFactory } from '@sceneway/device-drivers/transports/serial-transport';
import { openPtyPair, type PtyPair } from '../pty/pty-pair.ts';

/**
 * The real canteen POS driver on one end of a socat pty pair, with the agent's side played by the
 * caller's decide functions. Everything between is production code: serial transport, framing, codec,
 * driver. Used by the end-to-end tests and the simulator's `loopback` CLI command.
 */
export interface DriverHarnessOptions {
  decideSale(terminalId: string, sale: SaleRequest): Promise<SaleDecision> | SaleDecision;
  decideVoid?(terminalId: string, request: VoidRequest): Promise<SaleDecision> | SaleDecision;
  config?: Partial<Omit<CanteenPosConfigInput, 'port'>>;
  logger?: DriverLogger;
}

export interface DriverHarness {
  dir: string;
  pair: PtyPair;
  driver: DriverInstance;
  events: DeviceEvent[];
  saleCalls: Array<{ terminalId: string; sale: SaleRequest }>;
  /** Successful opens of the driver's port (through the real serial transport factory). */
  readonly portOpens: number;
  /** Resolves with the first event (from now, or already seen after `since`) that matches. */
  waitForEvent(match: (e: DeviceEvent) => boolean, timeoutMs?: number, since?: number): Promise<DeviceEvent>;
  /** Aborts the context's AbortSignal, as the agent does when it shuts down. */
  abortSignal(): void;
  /** Unplug: socat dies, both ptys vanish. */
  unplug(): Promise<void>;
  /** Replug: a new socat on the same link names. */
  replug(): Promise<PtyPair>;
  close(): Promise<void>;
}

export const silentLogger: DriverLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export async function startDriverHarness(options: DriverHarnessOptions): Promise<DriverHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'canteen-pos-'));
  let pair = await openPtyPair(dir);
  const events: DeviceEvent[] = [];
  const listeners = new Set<() => void>();
  const saleCalls: DriverHarness['saleCalls'] = [];
  const abort = new AbortController();
  const serial = createSerialTransportFactory();
  let portOpens = 0;
  const ctx = createRecordingContext({
    transports: {
      async open(endpoint, signal) {
        const transport = await serial.open(endpoint, signal);
        portOpens++;
        return transport;
      },
    },
    logger: options.logger ?? silentLogger,
    signal: abort.signal,
    onEvent(event) {
      events.push(event);
      for (const l of listeners) l();
    },
    async decideSale(terminalId, sale) {
      saleCalls.push({ terminalId, sale });
      return options.decideSale(terminalId, sale);
    },
    ...(options.decideVoid ? { decideVoid: options.decideVoid } : {}),
  });
  const parsed = canteenPosConfigSchema.safeParse({
    terminals: [{ id: 'till-1', address: 1 }],
    ackTimeoutMs: 150,
    silenceTimeoutMs: 1000,
    pollIntervalMs: 20,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    ...options.config,
    port: { path: pair.a },
  });
  if (!parsed.success) {
    await pair.close();
    throw parsed.error;
  }
  const config = parsed.data;
  const driver = canteenPosDriver.create(ctx, config);

  return {
    dir,
    get pair() {
      return pair;
    },
    driver,
    events,
    saleCalls,
    get portOpens() {
      return portOpens;
    },
    waitForEvent(match, timeoutMs = 5000, since = events.length) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = events.slice(since).find(match);
          if (!found) return false;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(`no matching event within ${timeoutMs} ms; saw ${JSON.stringify(events.slice(since))}`),
          );
        }, timeoutMs);
        if (!check()) listeners.add(check);
      });
    },
    abortSignal: () => abort.abort(),
    unplug: () => pair.close(),
    async replug() {
      pair = await openPtyPair(dir);
      return pair;
    },
    async close() {
      await driver.stop();
      abort.abort();
      await pair.close();
    },
  };
}
