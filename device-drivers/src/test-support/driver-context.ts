import type {
  AccessDecision,
  CredentialAnswer,
  DriverClock,
  DriverContext,
  DriverLogger,
  FaceRecognition,
  PaymentCredential,
  PersonList,
  PlateSighting,
  ReplyTo,
  SaleDecision,
  SaleRequest,
  SaleStatus,
  TerminalEvent,
  TerminalKey,
  VoidRequest,
} from '../driver-api.ts';
import type { ByteTransportFactory, HttpTransportFactory, MqttTransportFactory } from '../transport.ts';
import { createHttpTransportFactory } from '../transports/http-transport.ts';
import { createTransportFactory } from '../transports/index.ts';

/**
 * What a driver reported, in the short form driver tests assert on: status transitions, protocol
 * trouble and reader input, in the order the driver submitted them (TerminalStatus, FrameRejected and
 * CredentialPresented events of driver-api.ts).
 */
export type DeviceEvent =
  | { type: 'terminal-up'; terminalId: string; detail?: string }
  | { type: 'terminal-down'; terminalId: string; reason: string }
  | { type: 'frame-error'; terminalId: string; code: string; detail: string }
  | { type: 'credential-presented'; terminalId: string; credential: PaymentCredential }
  | {
      type: 'terminal-alert';
      terminalId: string;
      code: string;
      severity: 'warning' | 'critical';
      detail: string;
    };

export function deviceEventOf(event: TerminalEvent): DeviceEvent | null {
  switch (event.type) {
    case 'TerminalStatus':
      return event.up
        ? {
            type: 'terminal-up',
            terminalId: event.terminalId,
            ...(event.detail ? { detail: event.detail } : {}),
          }
        : { type: 'terminal-down', terminalId: event.terminalId, reason: event.detail ?? '' };
    case 'FrameRejected':
      return { type: 'frame-error', terminalId: event.terminalId, code: event.code, detail: event.detail };
    case 'CredentialPresented':
      return { type: 'credential-presented', terminalId: event.terminalId, credential: event.credential };
    case 'TerminalAlert':
      return {
        type: 'terminal-alert',
        terminalId: event.terminalId,
        code: event.code,
        severity: event.severity,
        detail: event.detail,
      };
    default:
      return null;
  }
}

/**
 * The one place a driver test builds a `DriverContext` (tests only). Every driver test, harness and
 * conformance kit goes through it, so a change of the context's shape is adapted here once. The
 * test plays the agent's side with plain functions; everything the driver hands over is recorded.
 */
export interface TestDriverContextOptions {
  /** The memory transport for unit tests, the serial or HID factory for tests over a real line. */
  transports: ByteTransportFactory;
  /** MQTT families: a terminal's topics (the agent's broker hub, or a test's own). */
  mqtt?: MqttTransportFactory;
  /** The agent's sale decision; absent for a family that never asks (a reader without a screen). */
  decideSale?(terminalId: string, sale: SaleRequest): Promise<SaleDecision> | SaleDecision;
  decideVoid?(terminalId: string, request: VoidRequest): Promise<SaleDecision> | SaleDecision;
  /** The parking scenario's answer to a plate (onvif-camera); absent: PlateSighted is refused. */
  decidePlate?(terminalId: string, sighting: PlateSighting): Promise<AccessDecision> | AccessDecision;
  /** Told of each snapshot an onvif-camera driver sends after a sighting. */
  onPlateSnapshot?(terminalId: string, eventId: string, jpeg: Uint8Array): void;
  /** The blacklist version the site applies, as the canteen scenario answers BlacklistVersionAsked. */
  blacklistVersion?(): number;
  /** What the ledger says of a receipt (SaleStatusAsked, canteen-pos v2); refused by default. */
  saleStatus?(terminalId: string, receiptNo: number): Promise<SaleStatus> | SaleStatus;
  /** The gate scenario's answer to a recognition (face readers); absent for families that never ask. */
  decideAccess?(terminalId: string, recognition: FaceRecognition): Promise<AccessDecision> | AccessDecision;
  /** Face readers: the person list of a reader (default: version 0, nobody). */
  personList?(terminalId: string): PersonList;
  /** The context's clock; default Date.now. */
  clock?: DriverClock;
  /** The keys `ctx.terminalKeys(id)` returns (canteen-pos v2); none by default. */
  terminalKeys?(terminalId: string): readonly TerminalKey[];
  logger?: DriverLogger;
}

export interface TestDriverContext {
  readonly ctx: DriverContext;
  /** Every event the driver emitted, in order. */
  readonly events: DeviceEvent[];
  /** Every sale decision the driver asked for, duplicates kept. */
  readonly saleCalls: Array<{ terminalId: string; sale: SaleRequest }>;
  readonly voidCalls: Array<{ terminalId: string; request: VoidRequest }>;
  readonly accessCalls: Array<{ terminalId: string; recognition: FaceRecognition }>;
  /** Every TerminalAlert the driver raised. */
  readonly alerts: Array<{ terminalId: string; code: string; severity: string; detail: string }>;
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
  const accessCalls: TestDriverContext['accessCalls'] = [];
  const alerts: TestDriverContext['alerts'] = [];
  const abort = new AbortController();
  let opens = 0;
  const decideSale = options.decideSale ?? notAsked('sale');
  const decideVoid = options.decideVoid ?? notAsked('void');

  const record = (event: TerminalEvent) => {
    const recorded = deviceEventOf(event);
    if (!recorded) return;
    events.push(recorded);
    for (const l of [...listeners]) l();
  };
  // The agent's side of each event, played by the test's functions (the production agent routes the
  // same events to a scenario through its event router).
  const answer = async (event: TerminalEvent): Promise<unknown> => {
    record(event);
    switch (event.type) {
      case 'SaleRequested':
        saleCalls.push({ terminalId: event.terminalId, sale: event.sale });
        return decideSale(event.terminalId, event.sale);
      case 'VoidRequested':
        voidCalls.push({ terminalId: event.terminalId, request: event.request });
        return decideVoid(event.terminalId, event.request);
      case 'CredentialPresented':
        return { outcome: 'accepted', forTerminal: event.terminalId } satisfies CredentialAnswer;
      case 'BlacklistVersionAsked':
        return { version: options.blacklistVersion?.() ?? 0 };
      case 'SaleStatusAsked':
        return options.saleStatus
          ? options.saleStatus(event.terminalId, event.receiptNo)
          : Promise.reject(new Error("this test's agent side does not expect a status query"));
      case 'FaceRecognized':
        if (!options.decideAccess) return notAsked('access')();
        accessCalls.push({ terminalId: event.terminalId, recognition: event.recognition });
        return options.decideAccess(event.terminalId, event.recognition);
      case 'PersonListAsked':
        // A test without a person list: version 0, which is what a fresh reader holds (nothing to send).
        return options.personList?.(event.terminalId) ?? { version: 0, persons: [] };
      case 'TerminalAlert':
        alerts.push({
          terminalId: event.terminalId,
          code: event.code,
          severity: event.severity,
          detail: event.detail,
        });
        for (const l of [...listeners]) l();
        return undefined;
      case 'PlateSighted':
        if (options.decidePlate) return options.decidePlate(event.terminalId, event.sighting);
        return Promise.reject(new Error(`this test's agent side does not expect ${event.type}`));
      case 'PlateSnapshotTaken':
        options.onPlateSnapshot?.(event.terminalId, event.eventId, event.jpeg);
        return undefined;
      default:
        return undefined;
    }
  };
  const counted: ByteTransportFactory = {
    async open(endpoint, signal) {
      const transport = await options.transports.open(endpoint, signal);
      opens++;
      return transport;
    },
  };
  const http = createHttpTransportFactory();
  const countedHttp: HttpTransportFactory = {
    async open(endpoint, signal) {
      const transport = await http.open(endpoint, signal);
      opens++;
      return transport;
    },
  };
  const ctx: DriverContext = {
    transports: createTransportFactory({
      serial: counted,
      hid: counted,
      http: countedHttp,
      ...(options.mqtt ? { mqtt: options.mqtt } : {}),
    }),
    logger: options.logger ?? quietDriverLogger,
    clock: options.clock ?? { now: () => Date.now() },
    terminalKeys: (terminalId) => options.terminalKeys?.(terminalId) ?? [],
    signal: abort.signal,
    submit: <E extends TerminalEvent>(event: E) => answer(event) as Promise<ReplyTo<E>>,
  };

  return {
    ctx,
    events,
    saleCalls,
    voidCalls,
    accessCalls,
    alerts,
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
