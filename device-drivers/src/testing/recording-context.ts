import type {
  CredentialAnswer,
  DriverContext,
  DriverLogger,
  PaymentCredential,
  ReplyTo,
  SaleDecision,
  SaleRequest,
  TerminalEvent,
  VoidRequest,
} from '../driver-api.ts';
import type { ByteTransportFactory, MqttTransportFactory, TransportFactory } from '../transport.ts';
import { createTransportFactory } from '../transports/index.ts';

/**
 * TESTS ONLY. What a driver reported, in the short form driver tests assert on: status transitions,
 * protocol trouble and reader input, in the order the driver submitted them.
 */
export type RecordedEvent =
  | { type: 'terminal-up'; terminalId: string; detail?: string }
  | { type: 'terminal-down'; terminalId: string; reason: string }
  | { type: 'frame-error'; terminalId: string; code: string; detail: string }
  | { type: 'credential-presented'; terminalId: string; credential: PaymentCredential };

export function recordedOf(event: TerminalEvent): RecordedEvent | null {
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
    default:
      return null;
  }
}

export interface RecordingContextOptions {
  /** Byte transports (a real serial factory on a pty, a fake USB bus, the in-memory transport). */
  transports: ByteTransportFactory;
  mqtt?: MqttTransportFactory;
  /** The agent's side of a sale, played by the test. Default: declined SYSTEM_ERROR ("not used"). */
  decideSale?(terminalId: string, sale: SaleRequest): Promise<SaleDecision> | SaleDecision;
  decideVoid?(terminalId: string, request: VoidRequest): Promise<SaleDecision> | SaleDecision;
  blacklistVersion?(): number;
  onEvent?(event: RecordedEvent): void;
  logger?: DriverLogger;
  signal?: AbortSignal;
}

export const silentDriverLogger: DriverLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

const NOT_USED: SaleDecision = { outcome: 'declined', reason: 'SYSTEM_ERROR', displayText: 'not used' };

/**
 * The one way driver tests build a DriverContext: `submit` answers the money events with the test's
 * decide functions and records everything else. The production agent builds its own through the event
 * router; both meet the same DriverContext interface, so the driver code under test is the production one.
 */
export function createRecordingContext(options: RecordingContextOptions): DriverContext {
  const transports: TransportFactory = createTransportFactory({
    serial: options.transports,
    hid: options.transports,
    ...(options.mqtt ? { mqtt: options.mqtt } : {}),
  });
  const submit = async (event: TerminalEvent): Promise<unknown> => {
    const recorded = recordedOf(event);
    if (recorded) options.onEvent?.(recorded);
    switch (event.type) {
      case 'SaleRequested':
        return options.decideSale ? options.decideSale(event.terminalId, event.sale) : NOT_USED;
      case 'VoidRequested':
        return options.decideVoid
          ? options.decideVoid(event.terminalId, event.request)
          : { outcome: 'declined', reason: 'VOID_NOT_ALLOWED', displayText: '不可撤销' };
      case 'CredentialPresented':
        return { outcome: 'accepted', forTerminal: event.terminalId } satisfies CredentialAnswer;
      case 'BlacklistVersionAsked':
        return { version: options.blacklistVersion?.() ?? 0 };
      case 'FaceRecognized':
      case 'PlateSighted':
        return { outcome: 'deny', reason: 'not used' };
      default:
        return undefined;
    }
  };
  return {
    transports,
    logger: options.logger ?? silentDriverLogger,
    clock: { now: () => Date.now() },
    signal: options.signal ?? new AbortController().signal,
    submit: <E extends TerminalEvent>(event: E) => submit(event) as Promise<ReplyTo<E>>,
  };
}
