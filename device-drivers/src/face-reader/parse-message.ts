import type { z } from 'zod';
import { firmwareReportSchema } from './firmware-messages.ts';
import {
  commandAckSchema,
  MAX_EVENT_BYTES,
  personSyncAckSchema,
  readerStatusSchema,
  recognitionEventSchema,
} from './messages.ts';

const SCHEMAS = {
  events: recognitionEventSchema,
  acks: commandAckSchema,
  status: readerStatusSchema,
  'persons/ack': personSyncAckSchema,
  'firmware/report': firmwareReportSchema,
} as const;
type ReaderTopic = keyof typeof SCHEMAS;

export type ParsedMessage<T extends ReaderTopic> =
  | { ok: true; message: z.infer<(typeof SCHEMAS)[T]> }
  | { ok: false; code: 'FACE_MESSAGE_SIZE' | 'FACE_JSON' | 'FACE_SCHEMA'; detail: string; eventId?: string };

/**
 * A reader's message, checked: size, JSON, then the topic's schema. A failure names what is wrong
 * (the field path, never its value: a value may be a person id) and, for an event, the event id when
 * it is readable, so the reader still gets an answer.
 */
export function parseReaderMessage<T extends ReaderTopic>(topic: T, payload: Buffer): ParsedMessage<T> {
  if (payload.length > MAX_EVENT_BYTES) {
    return {
      ok: false,
      code: 'FACE_MESSAGE_SIZE',
      detail: `${topic}: ${payload.length} bytes > ${MAX_EVENT_BYTES}`,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, code: 'FACE_JSON', detail: `${topic}: the payload is not JSON` };
  }
  const result = SCHEMAS[topic].safeParse(json);
  if (result.success) return { ok: true, message: result.data as z.infer<(typeof SCHEMAS)[T]> };
  const issue = result.error.issues[0];
  const where = issue?.path.length ? issue.path.join('.') : '(message)';
  const eventId = readableEventId(json);
  return {
    ok: false,
    code: 'FACE_SCHEMA',
    detail: `${topic}: ${where}: ${issue?.message ?? 'invalid'}`,
    ...(topic === 'events' && eventId ? { eventId } : {}),
  };
}

function readableEventId(json: unknown): string | undefined {
  if (typeof json !== 'object' || json === null) return undefined;
  const id = (json as { eventId?: unknown }).eventId;
  return typeof id === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(id) ? id : undefined;
}
