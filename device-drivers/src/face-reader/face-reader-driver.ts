import type {
  AccessDecision,
  DriverContext,
  DriverFirmware,
  DriverInstance,
  FaceRecognition,
} from '../driver-api.ts';
import type { MqttTransport } from '../transport.ts';
import { createFaceReaderFirmware, type ReaderLink } from './face-reader-firmware.ts';
import { type FirmwareImageServer, startFirmwareImageServer } from './firmware-image-server.ts';
import type { DenyReason, DoorCommand, PersonSync } from './messages.ts';
import { FACE_PROTOCOL_VERSION } from './messages.ts';
import { parseReaderMessage } from './parse-message.ts';
import { personsKeyOf, sealPersonField } from './person-seal.ts';
import type { FaceReaderConfig } from './schema.ts';

/** How often pending door commands are checked for expiry (against the context's clock). */
const EXPIRY_SWEEP_MS = 500;

interface PendingCommand {
  readerId: string;
  eventId: string | undefined;
  expiresAt: number;
}

/**
 * One face-reader driver entry: every configured reader's topics on the box's broker. A recognition
 * event becomes the neutral FaceRecognized; the scenario's AccessDecision goes back as a QoS 1 door
 * command on `cmd`, which the broker queues for a reader whose persistent session is offline. Each
 * command carries an expiry: the reader acks `done` or `expired`, and a command with no ack by its
 * expiry is reported expired by the box, so a door is never opened late without anyone knowing.
 *
 * The driver keeps no state of its own about events: deduplicating a replayed event is the scenario's
 * (durable, in the ledger), so a restart of the agent cannot double-record a passage.
 */
export interface FaceReaderDriverInstance extends DriverInstance {
  firmware: DriverFirmware;
  /** The firmware image server while the driver runs with `firmwareHttp` (what it served, for tests). */
  readonly imageServer: FirmwareImageServer | null;
}

export function createFaceReaderDriver(
  ctx: DriverContext,
  config: FaceReaderConfig,
): FaceReaderDriverInstance {
  const log = ctx.logger;
  let topics: Array<{ readerId: string; transport: MqttTransport }> = [];
  let starting: Promise<void> | null = null;
  let running = false;
  const pending = new Map<string, PendingCommand>();
  let sweep: NodeJS.Timeout | undefined;
  let commandCounter = 0;
  const bootTag = ctx.clock.now().toString(36);
  const links = new Map<string, ReaderLink>();
  let imageServer: FirmwareImageServer | null = null;
  const fw = createFaceReaderFirmware({
    ctx,
    config,
    bootTag,
    link: (readerId) => links.get(readerId),
    server: () => imageServer,
  });

  const status = (readerId: string, up: boolean, detail?: string) =>
    void ctx
      .submit({ type: 'TerminalStatus', terminalId: readerId, up, ...(detail ? { detail } : {}) })
      .catch(() => undefined);
  const rejected = (readerId: string, code: string, detail: string) =>
    void ctx.submit({ type: 'FrameRejected', terminalId: readerId, code, detail }).catch(() => undefined);

  async function sendCommand(
    readerId: string,
    transport: MqttTransport,
    eventId: string | undefined,
    decision: AccessDecision,
  ): Promise<void> {
    const issuedAt = ctx.clock.now();
    const command: DoorCommand = {
      v: FACE_PROTOCOL_VERSION,
      commandId: `${readerId}.${bootTag}.${++commandCounter}`,
      ...(eventId ? { eventId } : {}),
      action: decision.outcome,
      ...(decision.outcome === 'deny' ? { reason: decision.reason as DenyReason } : {}),
      ...(decision.displayText ? { displayText: decision.displayText } : {}),
      issuedAt,
      expiresAt: issuedAt + config.commandTtlMs,
    };
    pending.set(command.commandId, { readerId, eventId, expiresAt: command.expiresAt });
    try {
      await transport.publish('cmd', JSON.stringify(command));
    } catch (err) {
      pending.delete(command.commandId);
      log.warn({ readerId, eventId, err: (err as Error).message }, 'door command could not be queued');
    }
  }

  /**
   * A reader reports the person list version it holds in every `status` (after each connect, once its
   * subscriptions are in place, and every minute). When that is not the box's version, the reader gets
   * the full list (baseVersion 0: it replaces what it held), template and ID number sealed under the
   * reader's own provisioned key, QoS 1. So a reader that was offline at an enrolment, or across an
   * agent restart, is brought up to date as soon as it is back and says where it stands.
   */
  async function syncPersons(readerId: string, transport: MqttTransport, held: number): Promise<void> {
    let list: Awaited<ReturnType<typeof askList>>;
    try {
      list = await askList(readerId);
    } catch (err) {
      log.warn({ readerId, err: (err as Error).message }, 'person list could not be read');
      return;
    }
    if (!running || list.version === held) return;
    const key = ctx.terminalKeys(readerId)[0];
    // An empty list seals nothing: it is sent without a key (it clears what the reader held).
    if (!key && list.persons.length > 0) {
      void ctx
        .submit({
          type: 'TerminalAlert',
          terminalId: readerId,
          code: 'FACE_PERSONS_NO_KEY',
          severity: 'warning',
          detail: `reader ${readerId} has no provisioned key: its person list is not sent (sceneway terminal provision ${readerId})`,
        })
        .catch(() => undefined);
      return;
    }
    const sealKey = key ? personsKeyOf(key.key) : Buffer.alloc(0);
    const message: PersonSync = {
      v: FACE_PROTOCOL_VERSION,
      version: list.version,
      baseVersion: 0,
      items: list.persons.map((p) => ({
        op: 'add' as const,
        personId: p.personId,
        group: p.group,
        faceTemplate: sealPersonField(sealKey, p.faceTemplate),
        ...(p.idNumber !== undefined
          ? { idNumber: sealPersonField(sealKey, Buffer.from(p.idNumber, 'utf8')) }
          : {}),
      })),
    };
    sealKey.fill(0);
    try {
      await transport.publish('persons', JSON.stringify(message));
      log.info({ readerId, version: list.version, persons: list.persons.length }, 'person list sent');
    } catch (err) {
      log.warn({ readerId, err: (err as Error).message }, 'person list could not be queued');
    }
  }
  const askList = (readerId: string) => ctx.submit({ type: 'PersonListAsked', terminalId: readerId });

  async function onEvent(readerId: string, transport: MqttTransport, payload: Buffer): Promise<void> {
    const parsed = parseReaderMessage('events', payload);
    if (!parsed.ok) {
      rejected(readerId, parsed.code, parsed.detail);
      // An event we can name still gets its answer (the reader must not wait for one that never comes).
      if (parsed.eventId) {
        await sendCommand(readerId, transport, parsed.eventId, {
          outcome: 'deny',
          reason: 'BAD_EVENT',
          displayText: 'Reader error',
        });
      }
      return;
    }
    const event = parsed.message;
    const recognition: FaceRecognition = {
      eventId: event.eventId,
      personId: event.personId,
      score: event.score,
      liveness: event.liveness,
      at: event.at,
      ...(event.snapshotDigest ? { snapshotDigest: event.snapshotDigest } : {}),
    };
    let decision: AccessDecision;
    try {
      decision = await ctx.submit({ type: 'FaceRecognized', terminalId: readerId, recognition });
    } catch (err) {
      log.error({ readerId, eventId: event.eventId, err: (err as Error).message }, 'access decision failed');
      decision = { outcome: 'deny', reason: 'SYSTEM_ERROR', displayText: 'Please wait' };
    }
    if (!running) return;
    await sendCommand(readerId, transport, event.eventId, decision);
  }

  function onAck(readerId: string, payload: Buffer): void {
    const parsed = parseReaderMessage('acks', payload);
    if (!parsed.ok) {
      rejected(readerId, parsed.code, parsed.detail);
      return;
    }
    const command = pending.get(parsed.message.commandId);
    if (!command || command.readerId !== readerId) return; // an ack for a command of an earlier run
    pending.delete(parsed.message.commandId);
    if (parsed.message.status === 'expired') reportExpired(parsed.message.commandId, command, 'reader');
  }

  function reportExpired(commandId: string, command: PendingCommand, seenBy: 'reader' | 'box'): void {
    const detail = `door command ${commandId} (event ${command.eventId ?? '-'}) expired before the reader carried it out (seen by the ${seenBy})`;
    log.warn(
      { readerId: command.readerId, commandId, eventId: command.eventId, seenBy },
      'door command expired',
    );
    void ctx
      .submit({
        type: 'TerminalAlert',
        terminalId: command.readerId,
        code: 'FACE_COMMAND_EXPIRED',
        severity: 'warning',
        detail,
      })
      .catch(() => undefined);
  }

  function sweepExpired(): void {
    const now = ctx.clock.now();
    for (const [commandId, command] of pending) {
      // A grace of one sweep: the reader's ack of a command taken just in time may still be on its way.
      if (now <= command.expiresAt + EXPIRY_SWEEP_MS) continue;
      pending.delete(commandId);
      reportExpired(commandId, command, 'box');
    }
  }

  function onMessage(readerId: string, transport: MqttTransport, subtopic: string, payload: Buffer): void {
    switch (subtopic) {
      case 'events':
        void onEvent(readerId, transport, payload);
        return;
      case 'acks':
        onAck(readerId, payload);
        return;
      case 'status': {
        const parsed = parseReaderMessage('status', payload);
        if (!parsed.ok) {
          rejected(readerId, parsed.code, parsed.detail);
          return;
        }
        log.debug(
          { readerId, door: parsed.message.door, buffered: parsed.message.bufferedEvents },
          'reader status',
        );
        const link = links.get(readerId);
        if (link && parsed.message.fw) {
          link.fw = parsed.message.fw;
          fw.onStatus(readerId, parsed.message.fw);
        }
        void syncPersons(readerId, transport, parsed.message.personListVersion);
        return;
      }
      case 'firmware/report': {
        const parsed = parseReaderMessage('firmware/report', payload);
        if (!parsed.ok) {
          rejected(readerId, parsed.code, parsed.detail);
          return;
        }
        fw.onReport(readerId, parsed.message);
        return;
      }
      case 'persons/ack': {
        const parsed = parseReaderMessage('persons/ack', payload);
        if (!parsed.ok) {
          rejected(readerId, parsed.code, parsed.detail);
          return;
        }
        log.info({ readerId, version: parsed.message.version, ok: parsed.message.ok }, 'person list acked');
        return;
      }
      default:
        rejected(readerId, 'FACE_TOPIC_UNKNOWN', `no message is defined on ${subtopic}`);
    }
  }

  async function startAll(): Promise<void> {
    running = true;
    const http = config.firmwareHttp;
    if (http) {
      const server = await startFirmwareImageServer({ ...http, clock: ctx.clock, logger: log });
      if (!running) {
        await server.close();
        return;
      }
      imageServer = server;
    }
    for (const reader of config.readers) {
      const transport = await ctx.transports.open({ kind: 'mqtt', terminalId: reader.id }, ctx.signal);
      if (!running) {
        await transport.close();
        return;
      }
      topics.push({ readerId: reader.id, transport });
      links.set(reader.id, { transport, fw: undefined });
      transport.onConnection((up) => {
        if (!running) return;
        status(reader.id, up, up ? undefined : 'reader disconnected from the broker');
      });
      transport.onMessage((subtopic, payload) => {
        if (running) onMessage(reader.id, transport, subtopic, payload);
      });
      if (transport.connected) status(reader.id, true);
    }
    sweep = setInterval(sweepExpired, EXPIRY_SWEEP_MS);
  }

  return {
    start() {
      starting ??= startAll();
      return starting;
    },
    async stop() {
      const wasStarting = starting;
      starting = null;
      running = false;
      clearInterval(sweep);
      sweep = undefined;
      await wasStarting?.catch(() => undefined);
      const closing = topics;
      topics = [];
      pending.clear();
      fw.stop();
      links.clear();
      const server = imageServer;
      imageServer = null;
      await Promise.all([...closing.map((t) => t.transport.close()), server?.close()]);
    },
    firmware: fw.firmware,
    get imageServer() {
      return imageServer;
    },
  };
}
