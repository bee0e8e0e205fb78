import type { HolderDigests } from '@sceneway/cloud-sync';
import type { EventReplies, TerminalEventOf, TerminalEventType } from '@sceneway/device-drivers';
import type { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { ConfigIssue } from '../config/load-config.ts';
import type { AlertSink, SqliteLedger } from '../ledger/ledger.ts';
import type { Logger } from '../logger.ts';
import type { BankClient } from '../sync/bank-client.ts';

/** One handler per event type a scenario decides; the reply type follows from the event type. */
export type ScenarioHandlers = {
  [T in TerminalEventType]?: (event: TerminalEventOf<T>) => Promise<EventReplies[T]>;
};

/** What the agent gives a scenario: the site's shared parts, never a transport (DESIGN "Seams"). */
export interface ScenarioContext {
  /** The site this box serves (config site): e.g. the audience a QR token must name. */
  site: { id: string };
  ledger: SqliteLedger;
  clock: Clock;
  logger: Logger;
  alerts: AlertSink;
  bank: {
    client: BankClient;
    boxId: string;
    /** For signing the box's own requests (e.g. a blacklist fetch); never logged, never sent. */
    boxPrivateKeyHex: string;
    publicKeyHex: string;
    userId: string;
    blacklistPollSeconds: number;
  };
  /**
   * How this box names a card holder or QR account it keeps (D27): HMAC-SM3 under the holder key of
   * the bank's enrolment answer, or the unkeyed digests of a box that has no answer yet.
   */
  holderDigests: HolderDigests;
  /** Whether the uplink to the bank currently works (the uploader's view). */
  isBankReachable(): boolean;
  /** Free MiB on the ledger's file system: a cached statfs, cheap enough to ask on every decision. */
  freeDiskMb(): number;
  /** Every configured terminal id and the driver that owns it. */
  terminals: ReadonlyMap<string, string>;
}

export interface ScenarioInstance {
  handlers: ScenarioHandlers;
  /** Background work of the scenario (pollers); started after the handlers can be asked. */
  start?(): Promise<void> | void;
  stop?(): Promise<void> | void;
}

/**
 * A kind of site decision (canteen today; gates and parking next): one module, one registry line. The
 * agent routes each driver event to the scenario that `handles` its type, and validates
 * `scenarios.<id>` with `configSchema`.
 */
export interface ScenarioDefinition<Schema extends z.ZodType = z.ZodType> {
  id: string;
  configSchema: Schema;
  handles: readonly TerminalEventType[];
  /** Checks across the config (e.g. a binding names terminals that exist); issues name the field. */
  crossCheck?(config: z.infer<Schema>, terminals: ReadonlyMap<string, string>): ConfigIssue[];
  create(ctx: ScenarioContext, config: z.infer<Schema>): ScenarioInstance;
}

export function defineScenario<Schema extends z.ZodType>(
  definition: ScenarioDefinition<Schema>,
): ScenarioDefinition {
  return definition as unknown as ScenarioDefinition;
}
