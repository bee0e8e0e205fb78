import type {
  DeviceEvent,
  DriverContext,
  DriverLogger,
  SaleDecision,
  SaleRequest,
  SiteState,
  VoidRequest,
} from '../driver-api.ts';
import type { TransportFactory } from '../transport.ts';

/**
 * The one place a driver test builds a `DriverContext` (tests only). Every driver test, harness and
 * conformance kit goes through it, so a change of the context's shape is adapted here once. The
 * test plays the agent's side with plain functions; everything the driver hands over is recorded.
 */
export interface TestDriverContextOptions {
  /** The memory transport for unit tests, the serial or HID factory for tests over a real line. */
  transports: TransportFactory;
  /** The agent's sale decision; absent for a family that never asks (a reader without a screen). */
  decideSale?(terminalId: string, sale: SaleRequest): Promise<SaleDecision> | SaleDecision;
  decideVoid?(terminalId: string, request: VoidRequest): Promise<SaleDecision> | SaleDecision;
  siteState?: SiteState;
  logger?: DriverLogger;
}

export interface TestDriverContext {
  readonly ctx: DriverContext;
  /** Every event the driver emitted, in order. */
  readonly events: DeviceEvent[];
  /** Every sale decision the driver asked for, duplicates kept. */
  readonly saleCalls: Array<{ terminalId: string; sale: SaleRequest }>;
  readonly voidCalls: Array<{ terminalId: string; request: VoidRequest }>;
  /** Successful transport opens through the context so far. */
  transportOpens(): number;
  /** Resolves with the first event after `since` (default: from now) that matches; rejects after timeoutMs. */
  waitForEvent(match: (e: DeviceEvent) => boolean, timeoutMs?: number, since?: number): Promise<DeviceEvent>;
  /** Fires the context's AbortSignal, as the agent does when it shuts down. */
  abort(): void;
}

export const quietDriverLogger: DriverLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

const notAsked = (what: string) => () =>
  Promise.reject(new Error(`this test's agent side does not expect a ${what} decision`));

export function createTestDriverContext(options: TestDriverContextOptions): TestDriverContext {
  const events: DeviceEvent[] = [];
  const listeners = new Set<() => void>();
  const saleCalls: TestDriverContext['saleCalls'] = [];
  const voidCalls: TestDriverContext['voidCalls'] = [];
  const abort = new AbortController();
  let opens = 0;
  const decideSale = options.decideSale ?? notAsked('sale');
  const decideVoid = options.decideVoid ?? notAsked('void');

  const ctx: DriverContext = {
    transports: {
      async open(endpoint, signal) {
        const transport = await options.transports.open(endpoint, signal);
        opens++;
        return transport;
      },
    },
    logger: options.logger ?? quietDriverLogger,
    clock: { now: () => Date.now() },
    signal: abort.signal,
    emit(event) {
      events.push(event);
      for (const l of [...listeners]) l();
    },
    async decideSale(terminalId, sale) {
      saleCalls.push({ terminalId, sale });
      return decideSale(terminalId, sale);
    },
    async decideVoid(terminalId, request) {
      voidCalls.push({ terminalId, request });
      return decideVoid(terminalId, request);
    },
    ...(options.siteState ? { siteState: options.siteState } : {}),
  };

  return {
    ctx,
    events,
    saleCalls,
    voidCalls,
    transportOpens: () => opens,
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
    abort: () => abort.abort(),
  };
}
