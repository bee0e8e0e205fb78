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
 * What a driver tells the agent. Events that need a decision (a sale) carry a `respond` the scenario
 * rules call with the decision once it is durable; the driver turns it into the terminal's reply.
 */
export type DeviceEvent =
  | { type: 'terminal-up'; terminalId: string }
  | { type: 'terminal-down'; terminalId: string; reason: string }
  | { type: 'frame-error'; terminalId: string; code: string; detail: string }
  | { type: 'device-request'; terminalId: string; request: unknown; respond(reply: unknown): Promise<void> };

export interface DriverContext {
  transports: TransportFactory;
  logger: DriverLogger;
  clock: DriverClock;
  signal: AbortSignal;
  emit(event: DeviceEvent): void;
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
