import type { SyncErrorCode } from '@sceneway/core';
import { z } from 'zod';
import type { JsonValue } from '../chain/record-chain.ts';
import { SyncError } from '../sync-error.ts';

/**
 * Zod schemas of the v1 wire objects; the TypeScript types are inferred from them (never written
 * twice). Objects are strict: an unknown field is refused rather than signed-and-ignored, so what a
 * bank verifies is exactly what it stores. Hex is lowercase, as produced by sm3Hex and Buffer.
 */
export const BATCH_FORMAT = 'sceneway.batch.v1';
export const BATCH_FORMAT_VERSION = 1;

// Patterns and bounds shared by the zod schemas and the hand-written record check (isWellFormedRecord).
const HEX64 = /^[0-9a-f]{64}$/;
const SM4_IV = /^[0-9a-f]{32}$/;
const SM4_BLOCKS = /^(?:[0-9a-f]{32})+$/;
const SHORT_TEXT_MAX = 128;

export const hex64 = z.string().regex(HEX64, 'expected 64 lowercase hex digits');
export const hexBytes = z.string().regex(/^(?:[0-9a-f]{2})+$/, 'expected lowercase hex bytes');
const safeInt = z.number().int().refine(Number.isSafeInteger, 'expected a safe integer');
const seqNumber = safeInt.refine((n) => n >= 0, 'expected a non-negative integer');
const ISO_UTC_OPTIONS = { precision: 3, offset: false } as const;
const isoUtc = z.iso.datetime(ISO_UTC_OPTIONS);
const shortText = z.string().min(1).max(SHORT_TEXT_MAX);

/** Payload nesting bound: keeps validation and JCS (both recursive) far from the stack limit. */
export const MAX_PAYLOAD_DEPTH = 16;

/**
 * JSON whose numbers are all safe integers: JCS is only unambiguous across languages for those
 * (float formatting differs between implementations), and money is integer fen anyway.
 */
export function isIntegerJson(value: unknown, depth = 0): value is JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isSafeInteger(value);
  if (depth >= MAX_PAYLOAD_DEPTH || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.every((v) => isIntegerJson(v, depth + 1));
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false; // plain data only, no Date/Map/Buffer
  return Object.values(value).every((v) => isIntegerJson(v, depth + 1));
}

function isPayload(v: unknown): v is { [key: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && isIntegerJson(v);
}

const payloadSchema = z.custom<{ [key: string]: JsonValue }>(
  isPayload,
  `expected a JSON object with only strings, safe integers, booleans, null, arrays and objects, at most ${MAX_PAYLOAD_DEPTH} deep`,
);

// Every shape below lists its members in JCS order (sorted by UTF-16 code units). zod writes its
// output in shape order, so a parsed batch is already in canonical order and recomputing its JCS bytes
// (the bank does for every batch) copies nothing (batch/jcs.ts). A test checks the order.
export const piiSealSchema = z.strictObject({
  ciphertext: z.string().regex(SM4_BLOCKS, 'expected whole SM4 blocks in hex'),
  iv: z.string().regex(SM4_IV, 'expected a 16-byte IV in hex'),
});

export const batchRecordSchema = z.strictObject({
  amountFen: safeInt.nullable(),
  boxId: shortText,
  clockOffsetMs: safeInt,
  hash: hex64,
  kind: shortText,
  payload: payloadSchema,
  pii: piiSealSchema.nullable(),
  piiDigest: hex64.nullable(),
  prevHash: hex64,
  recordedAt: isoUtc,
  seq: seqNumber,
  terminalId: shortText.nullable(),
});

export const batchHeaderSchema = z.strictObject({
  batchSeq: seqNumber,
  boxId: shortText,
  createdAt: isoUtc,
  firstSeq: seqNumber,
  formatVersion: z.literal(BATCH_FORMAT_VERSION),
  lastSeq: seqNumber,
  newChainHead: hex64,
  prevChainHead: hex64,
  recordCount: safeInt.refine((n) => n >= 1, 'a batch holds at least one record'),
  totalsFen: z.record(shortText, safeInt),
});

export const batchBodySchema = z.strictObject({
  header: batchHeaderSchema,
  keyEnvelope: hexBytes,
  records: z.array(batchRecordSchema).min(1),
});

export const batchEnvelopeSchema = z.strictObject({
  batch: batchBodySchema,
  digest: hex64,
  format: z.literal(BATCH_FORMAT),
  signature: hexBytes,
});

/**
 * The envelope with its records left unchecked, for the fast path of parseBatchEnvelopeJson: the records are
 * checked by isWellFormedRecord instead.
 */
const envelopeAroundRecordsSchema = batchEnvelopeSchema.extend({
  batch: batchBodySchema.extend({ records: z.array(z.unknown()).min(1) }),
});

// zod's own pattern for the isoUtc schema above, so both accept exactly the same timestamps.
const ISO_UTC = z.core.regexes.datetime(ISO_UTC_OPTIONS);

function isShortText(v: unknown): boolean {
  return typeof v === 'string' && v.length >= 1 && v.length <= SHORT_TEXT_MAX;
}
function isHex64(v: unknown): boolean {
  return typeof v === 'string' && HEX64.test(v);
}
function isPlainObjectWithKeys(v: unknown, keys: number): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false;
  let n = 0;
  for (const _ in v) n++;
  return n === keys;
}
function isSeal(v: unknown): boolean {
  return (
    isPlainObjectWithKeys(v, 2) &&
    typeof v.ciphertext === 'string' &&
    SM4_BLOCKS.test(v.ciphertext) &&
    typeof v.iv === 'string' &&
    SM4_IV.test(v.iv)
  );
}

/**
 * batchRecordSchema checked by hand, for the bank's hot path: a JSON object with exactly the twelve
 * members, each as the schema asks. It may refuse what the schema accepts (a caller then asks the schema,
 * which also names the bad field), never the reverse: a property test holds it to that. zod took ~4 µs
 * of the bank's ~40 µs per record; this takes about a quarter of that.
 */
export function isWellFormedRecord(v: unknown): v is BatchRecord {
  // Twelve members, and each of the twelve checks below fails on undefined: no member is missing or extra.
  if (!isPlainObjectWithKeys(v, 12)) return false;
  return (
    (v.amountFen === null || Number.isSafeInteger(v.amountFen)) &&
    isShortText(v.boxId) &&
    Number.isSafeInteger(v.clockOffsetMs) &&
    isHex64(v.hash) &&
    isShortText(v.kind) &&
    isPayload(v.payload) &&
    (v.pii === null || isSeal(v.pii)) &&
    (v.piiDigest === null || isHex64(v.piiDigest)) &&
    isHex64(v.prevHash) &&
    typeof v.recordedAt === 'string' &&
    ISO_UTC.test(v.recordedAt) &&
    Number.isSafeInteger(v.seq) &&
    (v.seq as number) >= 0 &&
    (v.terminalId === null || isShortText(v.terminalId))
  );
}

/** The most records the bank reads from one batch by default: the box's sync.maxRecords ceiling. */
export const MAX_BATCH_RECORDS = 100_000;

/**
 * Parses untrusted batch-envelope bytes; the same result and the same first error as
 * parseJsonWith(bytes, batchEnvelopeSchema, …), but the records (nearly all of the work) are checked by
 * isWellFormedRecord, and zod runs only on the first record that fails it, for its message: collecting
 * every issue of every record of a large junk batch took the bank's event loop for seconds.
 * More than `maxRecords` records are refused before any record is looked at.
 */
export function parseBatchEnvelopeJson(
  bytes: Uint8Array,
  code: SyncErrorCode,
  opts: { maxRecords?: number } = {},
): BatchEnvelope {
  const json = parseJsonText(bytes, code, 'batch envelope');
  const records = (json as { batch?: { records?: unknown } } | null)?.batch?.records;
  const maxRecords = opts.maxRecords ?? MAX_BATCH_RECORDS;
  if (Array.isArray(records) && records.length > maxRecords) {
    throw new SyncError(
      'BATCH_COUNT',
      `batch envelope: batch.records: ${records.length} records, at most ${maxRecords} are accepted`,
      'send smaller batches (sync.maxRecords)',
    );
  }
  const outer = parseValueWith(json, envelopeAroundRecordsSchema, code, 'batch envelope');
  const list = outer.batch.records;
  for (let i = 0; i < list.length; i++) {
    if (isWellFormedRecord(list[i])) continue;
    // The fast check may refuse what the schema accepts (never the reverse): then the schema decides.
    const checked = batchRecordSchema.safeParse(list[i]);
    if (checked.success) {
      list[i] = checked.data;
      continue;
    }
    const issue = checked.error.issues[0];
    const where = formatIssuePath(['batch', 'records', i, ...(issue?.path ?? [])]);
    throw new SyncError(code, `batch envelope: ${where}: ${issue?.message ?? 'invalid'}`, undefined, {
      cause: checked.error,
    });
  }
  return outer as BatchEnvelope;
}

export type PiiSeal = z.infer<typeof piiSealSchema>;
export type BatchRecord = z.infer<typeof batchRecordSchema>;
export type BatchHeader = z.infer<typeof batchHeaderSchema>;
export type BatchBody = z.infer<typeof batchBodySchema>;
export type BatchEnvelope = z.infer<typeof batchEnvelopeSchema>;

/** `batch.records[3].seq` from a zod path, so a refusal names the field (STYLE.md). */
export function formatIssuePath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(root)';
}

/** Parses untrusted JSON bytes with a schema, throwing SyncError(code) naming the first bad field. */
export function parseJsonWith<T extends z.ZodType>(
  bytes: Uint8Array,
  schema: T,
  code: SyncErrorCode,
  what: string,
): z.infer<T> {
  return parseValueWith(parseJsonText(bytes, code, what), schema, code, what);
}

function parseJsonText(bytes: Uint8Array, code: SyncErrorCode, what: string): unknown {
  try {
    // A view, not a copy: a batch body is over a megabyte.
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (cause) {
    throw new SyncError(code, `${what} is not JSON`, undefined, { cause });
  }
}

export function parseValueWith<T extends z.ZodType>(
  json: unknown,
  schema: T,
  code: SyncErrorCode,
  what: string,
): z.infer<T> {
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue ? formatIssuePath(issue.path) : '(root)';
    throw new SyncError(code, `${what}: ${where}: ${issue?.message ?? 'invalid'}`, undefined, {
      cause: result.error,
    });
  }
  return result.data;
}
