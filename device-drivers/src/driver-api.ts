import type { z } from 'zod';
import type { TransportEndpoint, TransportFactory } from './transport.ts';

/** Minimal structured logger the agent passes in (pino satisfies it). */
export interface DriverLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface DriverClock {
  now(): number;
}

/**
 * How a customer paid: a card chip UID (upper-case hex, 4-10 bytes) or a QR payment token as shown
 * by the campus app. Both identify a person: mask before logging (DESIGN invariant 5).
 */
export type PaymentCredential = { kind: 'card'; uidHex: string } | { kind: 'qr'; token: string };

/** Why the box declined: one name per reason, mapped by each driver to its wire code and screen text. */
export const DECLINE_REASONS = [
  'INSUFFICIENT_BALANCE',
  'INSUFFICIENT_LIMIT', // over the per-transaction limit
  'DAILY_LIMIT',
  'BLACKLISTED',
  'QR_EXPIRED',
  'QR_REUSED',
  'QR_BAD_SIGNATURE',
  'OFFLINE_LIMIT_REACHED', // full-buffer policy: backlog ceiling or disk floor reached
  'FLOOR_LIMIT', // over the offline floor limit while the bank is unreachable
  'UNKNOWN_ACCOUNT',
  'VOID_NOT_FOUND',
  'VOID_NOT_ALLOWED',
  'DUPLICATE_RECEIPT',
  'SYSTEM_ERROR',
] as const;
export type DeclineReasonName = (typeof DECLINE_REASONS)[number];

export type SaleDecision =
  | { outcome: 'approved'; balanceFen?: number; displayText?: string }
  | { outcome: 'declined'; reason: DeclineReasonName; displayText: string };

export interface SaleRequest {
  /** Terminal receipt number: with the terminal id, the sale's idempotency key. */
  receiptNo: number;
  amountFen: number;
  credential: PaymentCredential;
  /** Terminal clock, Unix seconds UTC. */
  terminalTime: number;
  /** True when the terminal approved it on its own while cut off and uploads it now. */
  offline: boolean;
}

export interface VoidRequest {
  receiptNo: number;
  originalReceiptNo: number;
  amountFen: number;
  terminalTime: number;
  offline: boolean;
}

/** What a driver tells the agent about its terminals (status, protocol trouble, reader input). */
export type DeviceEvent =
  | { type: 'terminal-up'; terminalId: string; detail?: string }
  | { type: 'terminal-down'; terminalId: string; reason: string }
  | { type: 'frame-error'; terminalId: string; code: string; detail: string }
  /** A reader without its own screen (USB HID) presented a credential; the agent pairs it with a till. */
  | { type: 'credential-presented'; terminalId: string; credential: PaymentCredential };

export interface DriverContext {
  transports: TransportFactory;
  logger: DriverLogger;
  clock: DriverClock;
  signal: AbortSignal;
  emit(event: DeviceEvent): void;
  /**
   * Asks the agent's scenario rules for a decision. Resolves only once an approved sale is durable in
   * the ledger (DESIGN invariant 1); the driver turns the decision into the terminal's reply. Asking
   * again for the same (terminal, receiptNo) returns the first decision: a retransmission or a
   * re-upload is never charged twice.
   */
  decideSale(terminalId: string, sale: SaleRequest): Promise<SaleDecision>;
  decideVoid(terminalId: string, request: VoidRequest): Promise<SaleDecision>;
  /** What the site's rules hold that terminals ask about (e.g. the bank blacklist version in force). */
  siteState?: SiteState;
}

export interface SiteState {
  /** Version of the bank-signed blacklist the box applies (0 before the first one). */
  blacklistVersion(): number;
}

export interface DriverInstance {
  start(): Promise<void>;
  /** Idempotent; resolves when every transport is closed and every timer cleared. */
  stop(): Promise<void>;
}

export interface DriverDefinition<Schema extends z.ZodType = z.ZodType> {
  id: string;
  apiVersion: 1;
  configSchema: Schema;
  create(ctx: DriverContext, config: z.infer<Schema>): DriverInstance;
}

export type { TransportEndpoint };
