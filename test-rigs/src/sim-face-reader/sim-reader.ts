import { randomBytes } from 'node:crypto';
import {
  type DoorCommand,
  doorCommandSchema,
  FACE_PROTOCOL_VERSION,
  openPersonField,
  personSyncSchema,
  personsKeyOf,
  type ReaderStatus,
  type RecognitionEvent,
} from '@sceneway/device-drivers';
import mqtt, { type MqttClient } from 'mqtt';
import { createSimFirmware, type SimFirmware, type SimFirmwareOptions } from './sim-firmware.ts';

/**
 * A face/attendance reader as the box sees one on its broker: a real mqtt.js client speaking the
 * protocol of docs/protocols/face-reader.md. It holds a persistent session (clean: false, its own
 * client id) and subscribes once, so after a reconnect it gets its subscriptions and the commands
 * queued meanwhile from the broker, not from a resubscribe. Events recognised while it is offline are
 * kept in its own buffer and replayed, in order, when it is back (as real readers do).
 *
 * Fault modes: an abrupt disconnect, duplicate delivery of every event, malformed JSON, wrong
 * credentials, a flood.
 */
export interface SimReaderOptions {
  url: string;
  readerId: string;
  username: string;
  password: string;
  /** The reader's clock (expiry of door commands, event times); default Date.now. */
  now?: () => number;
  faults?: Partial<SimReaderFaults>;
  /** The reader's provisioned key (`sceneway terminal provision`): opens the sealed fields of `persons`. */
  terminalKey?: Uint8Array;
  /** A reader that takes firmware updates (§8): its slots and staged download live in `stateDir`. */
  firmware?: SimFirmwareOptions;
  /** Sees every firmware report the reader publishes (the CLI prints them). */
  onFirmwareReport?(report: object): void;
}

/** A person as the reader holds it after a `persons` sync, its sealed fields opened. */
export interface HeldPerson {
  group: string;
  faceTemplate: Buffer;
  idNumber?: string;
}

export interface SimReaderFaults {
  /** Every event is published twice (an at-least-once reader, or a network that duplicates). */
  duplicate: boolean;
  /** Log in with a password that is not the configured one. */
  wrongPassword: boolean;
}

export interface Recognition {
  personId: string | null;
  score?: number;
  liveness?: RecognitionEvent['liveness'];
  eventId?: string;
  snapshotDigest?: string;
}

export interface SimReader {
  readonly readerId: string;
  readonly connected: boolean;
  /** Whether the broker still held this reader's session at the last CONNACK. */
  readonly sessionPresent: boolean;
  /** Door commands received, in order, with what the reader did about them. */
  readonly commands: ReadonlyArray<DoorCommand & { outcome: 'done' | 'expired' }>;
  /** Events recognised while offline, not yet published. */
  readonly buffered: number;
  readonly faults: SimReaderFaults;
  /** The person list as synced by the box (`persons`), by person id. */
  readonly persons: ReadonlyMap<string, HeldPerson>;
  /** The person list version the reader holds and acked (0 before the first sync). */
  readonly personListVersion: number;
  /** Publishes (or buffers while offline) one recognition; resolves with the command that answers it. */
  recognize(recognition: Recognition): Promise<DoorCommand & { outcome: 'done' | 'expired' }>;
  /** The event the reader would publish for a recognition (the simulator's wire format). */
  eventOf(recognition: Recognition): RecognitionEvent;
  /** Publishes raw bytes on a subtopic of its own (malformed JSON, a wrong schema). */
  publishRaw(subtopic: string, payload: string | Buffer): Promise<void>;
  publishStatus(status?: Partial<ReaderStatus>): Promise<void>;
  /** `n` recognitions at once; resolves with every answer. */
  flood(n: number, personIds: ReadonlyArray<string | null>): Promise<DoorCommand[]>;
  /** The link drops without DISCONNECT (power cut, cable): the broker keeps the session. */
  dropConnection(): Promise<void>;
  /** Logs in again with clean: false and replays its buffer. */
  reconnect(): Promise<void>;
  /** The firmware side, when the reader was started with `firmware`. */
  readonly firmware: SimFirmware | undefined;
  /** How many times it rebooted (an update or a rollback), since it started. */
  readonly reboots: number;
  /** Resolves when a power cut (the `powerCutAt` fault) has stopped this reader. */
  readonly halted: Promise<void>;
  close(): Promise<void>;
}

type Answered = DoorCommand & { outcome: 'done' | 'expired' };

export async function startSimReader(options: SimReaderOptions): Promise<SimReader> {
  const now = options.now ?? Date.now;
  const faults: SimReaderFaults = { duplicate: false, wrongPassword: false, ...options.faults };
  const prefix = `sceneway/t/${options.readerId}/`;
  const commands: Answered[] = [];
  const waiters = new Map<string, Array<(c: Answered) => void>>();
  const buffer: RecognitionEvent[] = [];
  const unacked = new Map<string, RecognitionEvent>();
  let client: MqttClient | null = null;
  let sessionPresent = false;
  let subscribed = false;
  let counter = 0;
  const tag = randomBytes(3).toString('hex');

  const persons = new Map<string, HeldPerson>();
  let personListVersion = 0;
  /** Applies a `persons` message in order and acks the version (ok: false, the list untouched, if it cannot). */
  const onPersons = (payload: Buffer) => {
    const ack = (version: number, ok: boolean, error?: string) =>
      client?.publish(
        `${prefix}persons/ack`,
        JSON.stringify({ v: FACE_PROTOCOL_VERSION, version, ok, ...(error ? { error } : {}) }),
        { qos: 1 },
      );
    const parsed = personSyncSchema.safeParse(JSON.parse(payload.toString('utf8')));
    if (!parsed.success) return ack(personListVersion, false, 'persons: schema');
    const sync = parsed.data;
    if (sync.baseVersion !== 0 && sync.baseVersion !== personListVersion)
      return ack(personListVersion, false, `holding ${personListVersion}, not ${sync.baseVersion}`);
    if (!options.terminalKey) return ack(personListVersion, false, 'no provisioned key');
    const key = personsKeyOf(options.terminalKey);
    const next = new Map(sync.baseVersion === 0 ? [] : persons);
    try {
      for (const item of sync.items) {
        if (item.op === 'delete') {
          next.delete(item.personId);
          continue;
        }
        next.set(item.personId, {
          group: item.group,
          faceTemplate: openPersonField(key, item.faceTemplate),
          ...(item.idNumber ? { idNumber: openPersonField(key, item.idNumber).toString('utf8') } : {}),
        });
      }
    } catch {
      return ack(personListVersion, false, 'a sealed field does not open under this reader key');
    }
    persons.clear();
    for (const [id, p] of next) persons.set(id, p);
    personListVersion = sync.version;
    ack(sync.version, true);
  };

  const onMessage = (topic: string, payload: Buffer) => {
    if (topic === `${prefix}persons`) onPersons(payload);
    else if (topic === `${prefix}firmware`) firmware?.onCommand(payload);
    else onCommand(topic, payload);
  };
  let reboots = 0;
  let halt: () => void = () => undefined;
  const halted = new Promise<void>((resolve) => {
    halt = resolve;
  });
  const firmware: SimFirmware | undefined = options.firmware
    ? createSimFirmware(options.firmware, {
        now,
        report: async (report) => {
          const body = { v: FACE_PROTOCOL_VERSION, ...report, at: now() };
          options.onFirmwareReport?.(body);
          await client?.publishAsync(`${prefix}firmware/report`, JSON.stringify(body), { qos: 1 });
        },
        reboot: async () => {
          reboots++;
          await reader.dropConnection();
          await connect();
        },
        halt: async () => {
          await reader.dropConnection();
          client = null;
          halt();
        },
      })
    : undefined;

  const onCommand = (topic: string, payload: Buffer) => {
    if (topic !== `${prefix}cmd`) return;
    const parsed = doorCommandSchema.safeParse(JSON.parse(payload.toString('utf8')));
    if (!parsed.success) return;
    // A command id is acted on once; a second copy (the box resends unacked commands) is acked again.
    const seen = commands.find((c) => c.commandId === parsed.data.commandId);
    const outcome = seen?.outcome ?? (parsed.data.expiresAt < now() ? 'expired' : 'done');
    const ack = { v: FACE_PROTOCOL_VERSION, commandId: parsed.data.commandId, status: outcome, at: now() };
    client?.publish(`${prefix}acks`, JSON.stringify(ack), { qos: 1 });
    if (seen) return;
    const answered: Answered = { ...parsed.data, outcome };
    commands.push(answered);
    const id = parsed.data.eventId;
    if (!id) return;
    const list = waiters.get(id);
    waiters.delete(id);
    for (const resolve of list ?? []) resolve(answered);
  };

  async function connect(): Promise<void> {
    const c = mqtt.connect(options.url, {
      clientId: options.readerId,
      username: options.username,
      password: faults.wrongPassword ? `${options.password}-wrong` : options.password,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
      keepalive: 30,
      resubscribe: false,
    });
    // Listen before the CONNACK: a resumed session's queued commands may come in the same read.
    c.on('message', onMessage);
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        c.off('connect', onConnect);
        c.off('close', onClose);
        c.end(true);
        reject(err);
      };
      const onClose = () => onError(new Error(`${options.readerId}: connection closed before CONNACK`));
      const onConnect = () => {
        c.off('error', onError);
        c.off('close', onClose);
        resolve();
      };
      c.once('error', onError);
      c.once('close', onClose);
      c.once('connect', onConnect);
    });
    c.on('error', () => undefined);
    client = c;
    sessionPresent = lastSessionPresent(c);
    if (!subscribed || !sessionPresent) {
      const topics = [`${prefix}cmd`, `${prefix}persons`, ...(firmware ? [`${prefix}firmware`] : [])];
      const granted = await c.subscribeAsync(topics, { qos: 1 });
      if (granted.some((g) => g.qos !== 1))
        throw new Error(`subscription refused: ${JSON.stringify(granted)}`);
      subscribed = true;
    }
    // Where it stands, once its subscriptions are in place: the box answers a stale personListVersion
    // with the current person list (docs/protocols/face-reader.md §4).
    await reader.publishStatus();
    // Replay what was not acknowledged and what was recognised meanwhile, oldest first.
    const replay = [...unacked.values(), ...buffer.splice(0)];
    unacked.clear();
    for (const event of replay) send(event);
  }

  /**
   * Publishes one event, and keeps it until its PUBACK: an event whose PUBACK was lost with the link is
   * published again after the reconnect (QoS 1 is at least once; the box dedupes by event id). Resolves
   * once handed to the client, not on the PUBACK, which may never come on a link that just died.
   */
  function send(event: RecognitionEvent): void {
    const c = client;
    if (!c?.connected) {
      buffer.push(event);
      return;
    }
    unacked.set(event.eventId, event);
    const body = JSON.stringify(event);
    const copies = faults.duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      c.publish(`${prefix}events`, body, { qos: 1 }, (err) => {
        if (!err && client === c) unacked.delete(event.eventId);
      });
    }
  }

  const eventOf = (r: Recognition): RecognitionEvent => ({
    v: FACE_PROTOCOL_VERSION,
    eventId: r.eventId ?? `${options.readerId}-${tag}-${++counter}`,
    personId: r.personId,
    score: r.score ?? (r.personId === null ? 0.31 : 0.93),
    liveness: r.liveness ?? 'pass',
    at: now(),
    ...(r.snapshotDigest ? { snapshotDigest: r.snapshotDigest } : {}),
  });

  const answerOf = (eventId: string) =>
    new Promise<Answered>((resolve) => {
      const seen = commands.find((c) => c.eventId === eventId);
      if (seen) return resolve(seen);
      waiters.set(eventId, [...(waiters.get(eventId) ?? []), resolve]);
    });

  const reader: SimReader = {
    readerId: options.readerId,
    get connected() {
      return client?.connected ?? false;
    },
    get sessionPresent() {
      return sessionPresent;
    },
    commands,
    get buffered() {
      return buffer.length;
    },
    faults,
    persons,
    get personListVersion() {
      return personListVersion;
    },
    eventOf,
    async recognize(r) {
      const event = eventOf(r);
      const answer = answerOf(event.eventId);
      send(event);
      return answer;
    },
    async publishRaw(subtopic, payload) {
      await client?.publishAsync(`${prefix}${subtopic}`, payload, { qos: 1 });
    },
    async publishStatus(status = {}) {
      const body: ReaderStatus = {
        v: FACE_PROTOCOL_VERSION,
        at: now(),
        firmware: 'sim-face-reader 1.0',
        personCount: persons.size,
        personListVersion,
        bufferedEvents: buffer.length,
        door: 'closed',
        ...(firmware ? { fw: firmware.status() } : {}),
        ...status,
      };
      await reader.publishRaw('status', JSON.stringify(body));
    },
    async flood(n, personIds) {
      return Promise.all(
        Array.from({ length: n }, (_, i) =>
          reader.recognize({ personId: personIds[i % personIds.length] ?? null }),
        ),
      );
    },
    async dropConnection() {
      const c = client;
      if (!c) return;
      const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
      c.stream.destroy();
      await closed;
      c.end(true);
    },
    reconnect: connect,
    firmware,
    get reboots() {
      return reboots;
    },
    halted,
    async close() {
      await firmware?.stop();
      const c = client;
      client = null;
      await c?.endAsync(true);
    },
  };
  await connect();
  firmware?.resume();
  return reader;
}

/** mqtt.js keeps the CONNACK it got; `sessionPresent` is in it. */
function lastSessionPresent(client: MqttClient): boolean {
  return (
    (client as unknown as { connackPacket?: { sessionPresent?: boolean } }).connackPacket?.sessionPresent ===
    true
  );
}
