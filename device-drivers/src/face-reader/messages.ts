import { z } from 'zod';
import { readerFirmwareStatusSchema } from './firmware-messages.ts';

/**
 * The face/attendance reader protocol (docs/protocols/face-reader.md), as zod schemas: the one
 * definition the driver parses with, the simulator builds with and the document quotes. Every topic is
 * relative to the reader's own prefix `sceneway/t/<readerId>/` on the box's embedded broker, and every
 * message is QoS 1 JSON. Version 1.
 */
export const FACE_PROTOCOL_VERSION = 1;

/** Topics the reader publishes (the broker refuses any other). */
export const READER_PUBLISHES = ['events', 'acks', 'status', 'persons/ack', 'firmware/report'] as const;
/** Topics the reader subscribes to; only the box publishes there (a reader cannot forge its own door command). */
export const READER_SUBSCRIBES = ['cmd', 'persons', 'firmware'] as const;

/** An event id: the reader's own, unique per reader, stable across its replays after a reconnect. */
const eventId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,64}$/, 'event ids are 1-64 characters of A-Z a-z 0-9 . _ : -');
/** A person id as enrolled (an employee or student number): personal data, never logged in clear. */
const personId = z.string().min(1).max(64);
const sm3Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex digits (SM3)');

/** `events`: the reader matched, or failed to match, a face in front of it. */
export const recognitionEventSchema = z
  .object({
    v: z.literal(FACE_PROTOCOL_VERSION),
    eventId,
    /** Enrolled person id, or null when no enrolled face matched. */
    personId: personId.nullable(),
    /** The reader's match score, 0..1 (its best candidate when personId is null). */
    score: z.number().min(0).max(1),
    liveness: z.enum(['pass', 'fail', 'unknown']),
    /** Reader clock, Unix milliseconds UTC. */
    at: z.number().int().positive(),
    /** SM3 of the snapshot JPEG the reader keeps; the image itself never crosses the network. */
    snapshotDigest: sm3Hex.optional(),
  })
  .strict();
export type RecognitionEvent = z.infer<typeof recognitionEventSchema>;

/** Why a door stays shut: a stable name per reason, shown on the reader as `displayText`. */
export const DENY_REASONS = [
  'NOT_RECOGNIZED', // no enrolled face matched, or the match score is below the site's threshold
  'LIVENESS_FAILED', // 004 §5.3.2 b) 5): a photo, screen or mask is a denial
  'LOCKED_OUT', // 004 §5.3.2 b) 6): too many failures for this person or this reader
  'UNKNOWN_PERSON', // recognised, but not in the site's person directory
  'OUTSIDE_WINDOW', // the person's group has no access window now
  'ZONE_NOT_ALLOWED', // the person's group may not enter this zone
  'PASSBACK', // anti-passback: already in (or already out of) this zone
  'READER_UNASSIGNED', // the reader has no zone in scenarios.gates.readers
  'BAD_EVENT', // the event had an id but failed the schema
  'SYSTEM_ERROR',
] as const;
export type DenyReason = (typeof DENY_REASONS)[number];

/** `cmd`: the box's answer to one event, or a door command of its own. */
export const doorCommandSchema = z
  .object({
    v: z.literal(FACE_PROTOCOL_VERSION),
    /** Unique per command: the reader acks by it. */
    commandId: z.string().min(1).max(80),
    /** The event this answers (absent for an operator's command). */
    eventId: eventId.optional(),
    action: z.enum(['open', 'deny']),
    reason: z.enum(DENY_REASONS).optional(),
    displayText: z.string().max(64).optional(),
    /** Box clock, Unix ms. A reader must not act on a command after expiresAt (it acks `expired`). */
    issuedAt: z.number().int(),
    expiresAt: z.number().int(),
  })
  .strict()
  .refine((c) => (c.action === 'deny') === (c.reason !== undefined), {
    message: 'a deny names its reason, an open has none',
  });
export type DoorCommand = z.infer<typeof doorCommandSchema>;

/** `acks`: what became of a door command at the reader. */
export const commandAckSchema = z
  .object({
    v: z.literal(FACE_PROTOCOL_VERSION),
    commandId: z.string().min(1).max(80),
    /** done: carried out; expired: arrived after expiresAt and was not carried out. */
    status: z.enum(['done', 'expired']),
    at: z.number().int(),
  })
  .strict();
export type CommandAck = z.infer<typeof commandAckSchema>;

/** `status`: the reader's periodic health report. */
export const readerStatusSchema = z
  .object({
    v: z.literal(FACE_PROTOCOL_VERSION),
    at: z.number().int(),
    firmware: z.string().max(64),
    /** Persons enrolled on the reader (after the last sync). */
    personCount: z.number().int().min(0),
    /** The person list version the reader holds (see `persons`). */
    personListVersion: z.number().int().min(0),
    /** Events stored while the box was unreachable, not yet answered. */
    bufferedEvents: z.number().int().min(0),
    door: z.enum(['closed', 'open', 'forced', 'held']),
    /** What the reader runs, for firmware updates (§8); absent on a reader without firmware update. */
    fw: readerFirmwareStatusSchema.optional(),
  })
  .strict();
export type ReaderStatus = z.infer<typeof readerStatusSchema>;

/**
 * SM4-CBC ciphertext of one personal field, under the reader's provisioned key (`sceneway terminal
 * provision <id>`): base64 IV and ciphertext. A face template or an ID number never crosses in clear
 * (004 §5.3.2 b) 7)).
 */
export const sealedFieldSchema = z
  .object({
    iv: z.string().regex(/^[A-Za-z0-9+/]{22}==$/, 'a 16-byte IV in base64'),
    ct: z
      .string()
      .min(24)
      .max(262_144)
      .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64'),
  })
  .strict();

const personUpsert = z
  .object({
    op: z.enum(['add', 'update']),
    personId,
    /** The access group (scenarios.gates.groups[].id): the reader may show it; the box decides on it. */
    group: z.string().min(1).max(64),
    displayName: z.string().max(64).optional(),
    faceTemplate: sealedFieldSchema,
    idNumber: sealedFieldSchema.optional(),
  })
  .strict();
const personDelete = z.object({ op: z.literal('delete'), personId }).strict();

/** `persons`: a change to the reader's person list; it applies items in order, then acks the version. */
export const personSyncSchema = z
  .object({
    v: z.literal(FACE_PROTOCOL_VERSION),
    /** Version after these items; a reader that holds an older base than `baseVersion` asks for a full list. */
    version: z.number().int().min(1),
    baseVersion: z.number().int().min(0),
    items: z.array(z.discriminatedUnion('op', [personUpsert, personDelete])).max(500),
  })
  .strict();
export type PersonSync = z.infer<typeof personSyncSchema>;

/** `persons/ack`: the person list version the reader now holds. */
export const personSyncAckSchema = z
  .object({
    v: z.literal(FACE_PROTOCOL_VERSION),
    version: z.number().int().min(0),
    ok: z.boolean(),
    error: z.string().max(200).optional(),
  })
  .strict();

/** Largest payload the driver parses; the broker caps packets too (broker.maxPacketBytes). */
export const MAX_EVENT_BYTES = 4096;
