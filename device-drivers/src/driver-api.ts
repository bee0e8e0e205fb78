import type { FirmwareFamily, FirmwareManifest, FirmwareTerminalInfo, SafeLogFields } from '@sceneway/core';

export type { FirmwareTerminalInfo };

import type { z } from 'zod';
import type { TransportEndpoint, TransportFactory } from './transport.ts';

/**
 * Minimal structured logger the agent passes in (pino satisfies it). Fields are SafeLogFields: a raw
 * credential in a log call is a compile error, not a redaction (DESIGN invariant 5).
 */
export interface DriverLogger {
  debug(obj: SafeLogFields, msg?: string): void;
  info(obj: SafeLogFields, msg?: string): void;
  warn(obj: SafeLogFields, msg?: string): void;
  error(obj: SafeLogFields, msg?: string): void;
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
  'NO_CREDENTIAL', // a till without its own reader asked to be paid, and its bound reader saw no card
  'STALE_REQUEST', // the request's terminal time is older than the box's window: a stale copy from a line buffer
  'RECORD_MAC_INVALID', // an offline record whose MAC (made by the till under its own key) does not verify
  'SYSTEM_ERROR',
] as const;
export type DeclineReasonName = (typeof DECLINE_REASONS)[number];

/**
 * The answer to a sale or void. For an offline upload (`offline: true`) 'approved' means *recorded*:
 * the till approved it alone and money was spent, so the box keeps it even when a rule is broken, and
 * `findings` names every rule the box would have declined it for online (the bank sees them as flags,
 * the till learns to stop accepting that card offline). For an upload, 'declined' means *not recorded*
 * (a receipt reused for other content, a forged record MAC, a full buffer, a system error).
 */
export type SaleDecision =
  | { outcome: 'approved'; balanceFen?: number; displayText?: string; findings?: DeclineReasonName[] }
  | { outcome: 'declined'; reason: DeclineReasonName; displayText: string };

/** What the box knows of a receipt a till asks about (canteen-pos.md SALE_STATUS): from the ledger. */
export type SaleStatus =
  | { state: 'approved'; kind: 'sale' | 'void'; amountFen: number }
  | { state: 'declined'; kind: 'sale' | 'void'; reason: DeclineReasonName }
  /** No decision on record: nothing was charged; the till may ask again with the same content, or cancel. */
  | { state: 'unknown' };

export interface SaleRequest {
  /** Terminal receipt number: with the terminal id, the sale's idempotency key. */
  receiptNo: number;
  amountFen: number;
  /**
   * Absent when the till has no reader of its own: the scenario takes the credential last presented on
   * the reader bound to this till (config `scenarios.canteen.readerBindings`).
   */
  credential?: PaymentCredential;
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

/** A face/attendance reader matched (or failed to match) a face; the gate scenario decides. */
export interface FaceRecognition {
  /** The reader's own id for this event: readers replay after a reconnect, the scenario dedupes. */
  eventId: string;
  /** Enrolled person id, or null when nobody matched. Personal data: never logged in clear. */
  personId: string | null;
  /** Match score 0..1 as the reader reports it. */
  score: number;
  liveness: 'pass' | 'fail' | 'unknown';
  /** Reader clock, Unix milliseconds UTC. */
  at: number;
  /**
   * SM3 hex of the snapshot the reader took (the image stays on the reader): personal data, kept only
   * sealed (ledger pii faceImageDigest), never logged.
   */
  snapshotDigest?: string;
}

/** A plate camera read a licence plate at an entry or exit lane; the parking scenario decides. */
export interface PlateSighting {
  eventId: string;
  /** Personal data (it names a car owner): masked in logs. */
  plate: string;
  confidence: number;
  lane: 'entry' | 'exit';
  at: number;
  /** As the camera classifies the plate (e.g. "Normal", "civil"); informational. */
  plateType?: string;
  countryCode?: string;
}

/**
 * The persons one reader must hold, in clear: the driver seals the template and ID number under that
 * reader's own key before they leave the box. `version` changes whenever the list may have changed.
 */
export interface PersonList {
  version: number;
  persons: Array<{ personId: string; group: string; faceTemplate: Uint8Array; idNumber?: string }>;
}

/** What a gate, door or barrier is told. */
export type AccessDecision =
  | { outcome: 'open'; displayText?: string }
  | { outcome: 'deny'; reason: string; displayText?: string };

/**
 * Everything a driver hands the agent, scenario-free: what happened at a terminal, never what to do
 * about it. `ctx.submit(event)` routes it to the scenario that handles its type (or to the agent's
 * terminal board for status) and resolves with the reply below. Adding an event is one member here
 * and one line in EventReplies; the agent routes by `type` without knowing any of them.
 */
export type TerminalEvent =
  | { type: 'SaleRequested'; terminalId: string; sale: SaleRequest }
  | { type: 'VoidRequested'; terminalId: string; request: VoidRequest }
  /** A reader without its own screen (USB HID) presented a credential; a binding pairs it with a till. */
  | { type: 'CredentialPresented'; terminalId: string; credential: PaymentCredential }
  /** A terminal asks which version of the bank-signed blacklist the site applies (0 before the first). */
  | { type: 'BlacklistVersionAsked'; terminalId: string }
  /** A till asks what became of a receipt (after a sale with no answer); answered once any decision in flight is made. */
  | { type: 'SaleStatusAsked'; terminalId: string; receiptNo: number }
  | { type: 'FaceRecognized'; terminalId: string; recognition: FaceRecognition }
  /** A face reader came online: the persons it must hold (its zone's, with face data), for a `persons` sync. */
  | { type: 'PersonListAsked'; terminalId: string }
  | { type: 'PlateSighted'; terminalId: string; sighting: PlateSighting }
  /**
   * The camera's picture (JPEG) of a sighting, sent after the sighting itself so that the barrier never
   * waits for a picture. Personal data: the scenario stores it sealed, addressed by its digest.
   */
  | { type: 'PlateSnapshotTaken'; terminalId: string; eventId: string; jpeg: Uint8Array }
  | { type: 'TerminalStatus'; terminalId: string; up: boolean; detail?: string }
  /** A frame or report the driver could not use (bad CRC, junk, unknown command): for ops, not a decision. */
  | { type: 'FrameRejected'; terminalId: string; code: string; detail: string }
  /**
   * Something an operator must look at, seen by the driver (a frame with a bad MAC, a replay, a forged
   * offline record, a v1 till on an insecure line): raised as an agent alert, rate-limited by the agent.
   */
  | {
      type: 'TerminalAlert';
      terminalId: string;
      code: string;
      severity: 'warning' | 'critical';
      detail: string;
    };

export type TerminalEventType = TerminalEvent['type'];
export type TerminalEventOf<T extends TerminalEventType> = Extract<TerminalEvent, { type: T }>;

/** What the scenario answered the reader about a presented credential. */
export type CredentialAnswer =
  | { outcome: 'accepted'; forTerminal: string }
  | { outcome: 'ignored'; why: string };

export interface EventReplies {
  SaleRequested: SaleDecision;
  VoidRequested: SaleDecision;
  CredentialPresented: CredentialAnswer;
  BlacklistVersionAsked: { version: number };
  SaleStatusAsked: SaleStatus;
  FaceRecognized: AccessDecision;
  PersonListAsked: PersonList;
  PlateSighted: AccessDecision;
  PlateSnapshotTaken: undefined;
  TerminalStatus: undefined;
  FrameRejected: undefined;
  TerminalAlert: undefined;
}
export type ReplyTo<E extends TerminalEvent> = EventReplies[E['type']];

export interface DriverContext {
  transports: TransportFactory;
  logger: DriverLogger;
  clock: DriverClock;
  signal: AbortSignal;
  /**
   * Hands one event to the agent. Resolves with the reply to give the terminal, and only once anything
   * the decision wrote is durable (DESIGN invariant 1). Submitting the same request again (same terminal,
   * same receipt, same content) returns the first decision: a retransmission is never charged twice.
   * Rejects with a GatewayError when no scenario handles the event or the scenario failed; the driver
   * then gives the terminal its protocol's "system error" answer.
   */
  submit<E extends TerminalEvent>(event: E): Promise<ReplyTo<E>>;
  /**
   * The secret keys provisioned for a terminal (`sceneway terminal provision <id>`), newest first, read
   * from the box's sealed key store; empty when none was provisioned. Key bytes: never log them.
   */
  terminalKeys(terminalId: string): readonly TerminalKey[];
}

/** One provisioned terminal key (canteen-pos.md v2: sessions and offline record MACs). */
export interface TerminalKey {
  /** 1, 2, …: the till names the version it holds when it opens a session. */
  version: number;
  /** 32 random bytes. */
  key: Uint8Array;
}

export interface DriverInstance {
  start(): Promise<void>;
  /** Idempotent; resolves when every transport is closed and every timer cleared. */
  stop(): Promise<void>;
  /** Present when the family can update its terminals' firmware (docs/firmware-format.md). */
  firmware?: DriverFirmware;
  /**
   * Present when the family can test one terminal live (the installer's "send a heartbeat, see the
   * answer", D39): one heartbeat over the terminal's real transport now, in turn with the driver's own
   * traffic (never beside it on a shared bus), answered with what the terminal said. Resolves for every
   * outcome, the terminal's silence included (`failed` with a stable code); bounded by the driver's own
   * answer timeouts.
   */
  probe?(terminalId: string): Promise<TerminalProbeResult>;
}

/** What a live test of one terminal found (DriverInstance.probe). */
export type TerminalProbeResult =
  | {
      outcome: 'answered';
      /** From the heartbeat leaving the box to the first answer read back, in milliseconds. */
      roundTripMs: number;
      /** The running firmware as the terminal reports it, when its answer carries one. */
      firmwareVersion?: string;
      /** What else the answer said, for the installer (e.g. "STATUS: 0 of 5000 offline records"). */
      detail?: string;
    }
  | { outcome: 'failed'; code: string; detail: string };

/**
 * A package the agent has already verified (vendor signature, every chunk's SM3, the whole image's SM3)
 * and found to fit the terminal: a driver never sees an unverified image. `read` is of the image only.
 */
export interface FirmwareImage {
  manifest: FirmwareManifest;
  /** The exact signed manifest bytes and the vendor's DER SM2 signature: terminals check them too. */
  manifestBytes: Uint8Array;
  signature: Uint8Array;
  read(offset: number, length: number): Promise<Uint8Array>;
}

export interface FirmwareProgress {
  bytesDone: number;
  bytesTotal: number;
  phase: 'transfer' | 'verify' | 'activate' | 'reboot';
}

export interface FirmwareInstallOptions {
  signal: AbortSignal;
  onProgress?(progress: FirmwareProgress): void;
}

/**
 * `installed` means the terminal came back and reported `version`, which may not be the new one (an
 * image that fails to boot falls back to the old slot): the campaign's health gate judges. `failed` is
 * the terminal's or the link's refusal, by code; `retryable` when trying again later may succeed.
 */
export type FirmwareInstallResult =
  | { outcome: 'installed'; version: string }
  | { outcome: 'failed'; code: string; detail: string; retryable: boolean };

/**
 * One family's firmware delivery through its own transport. Resume is the terminal's knowledge (which
 * chunks of this image it holds), so an interrupted transfer resumes after an agent restart too.
 * Neither method throws for a terminal's refusal; both reject only when `signal` aborts.
 */
export interface DriverFirmware {
  family: FirmwareFamily;
  describe(terminalId: string): Promise<FirmwareTerminalInfo>;
  install(
    terminalId: string,
    image: FirmwareImage,
    options: FirmwareInstallOptions,
  ): Promise<FirmwareInstallResult>;
  /**
   * Back to the image the terminal ran before: a slot revert where the family has one (POS, face
   * readers), else `previous` uploaded again (ONVIF has no revert operation).
   */
  rollback(
    terminalId: string,
    previous: FirmwareImage | null,
    options: FirmwareInstallOptions,
  ): Promise<FirmwareInstallResult>;
}

/**
 * An MQTT terminal as the embedded broker must know it before it starts: who may log in, and the
 * topics (relative to the terminal's own prefix `sceneway/t/<terminalId>/`) it may publish and
 * subscribe to. Declared as data by the driver from its config; the broker enforces it.
 */
export interface MqttTerminalGrant {
  terminalId: string;
  username: string;
  /** scrypt hash from `sceneway broker hash-password`. */
  passwordHash: string;
  /** Subtopic filters the terminal may publish to (`+` and `#` allowed), e.g. ['events', 'status']. */
  publish: readonly string[];
  /** Subtopic filters the terminal may subscribe to; the box publishes its commands here. */
  subscribe: readonly string[];
}

export interface DriverDefinition<Schema extends z.ZodType = z.ZodType> {
  id: string;
  apiVersion: 2;
  configSchema: Schema;
  /** The event types the driver submits: the agent routes each to a scenario before the driver starts. */
  emits: readonly TerminalEventType[];
  /** Every terminal id the config names (the agent refuses one id used twice across drivers). */
  terminalIds(config: z.infer<Schema>): string[];
  /**
   * What the status board shows of each terminal beyond up/down, by id: its protocol, and whether it
   * runs by an acknowledged insecure setting (canteen POS protocol 1).
   */
  terminalFacts?(config: z.infer<Schema>): Record<string, { protocol?: number; insecure?: boolean }>;
  /** For MQTT families: the terminals the broker must admit, and their topic ACL, as data. */
  mqttTerminals?(config: z.infer<Schema>): MqttTerminalGrant[];
  create(ctx: DriverContext, config: z.infer<Schema>): DriverInstance;
}

/**
 * Types a driver definition by its own schema and hands it to the registry by the common shape: the
 * agent validates each entry with that same schema before create() sees it, so the widening is safe.
 */
export function defineDriver<Schema extends z.ZodType>(
  definition: DriverDefinition<Schema>,
): DriverDefinition {
  return definition as unknown as DriverDefinition;
}

export type { TransportEndpoint };
