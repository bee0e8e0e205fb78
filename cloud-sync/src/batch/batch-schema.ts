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

export const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');
export const hexBytes = z.string().regex(/^(?:[0-9a-f]{2})+$/, 'expected lowercase hex bytes');
const safeInt = z.number().int().refine(Number.isSafeInteger, 'expected a safe integer');
const seqNumber = safeInt.refine((n) => n >= 0, 'expected a non-negative integer');
const isoUtc = z.iso.datetime({ precision: 3, offset: false });
const shortText = z.string().min(1).max(128);

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

const payloadSchema = z.custom<{ [key: string]: JsonValue }>(
  (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && isIntegerJson(v),
  `expected a JSON object with only strings, safe integers, booleans, null, arrays and objects, at most ${MAX_PAYLOAD_DEPTH} deep`,
);

// Every shape below lists its members in JCS order (sorted by UTF-16 code units). zod writes its
// output in shape order, so a parsed batch is already in canonical order and recomputing its JCS bytes
// (the bank does for every batch) copies nothing (batch/jcs.ts). A test checks the order.
export const piiSealSchema = z.strictObject({
  ciphertext: z.string().regex(/^(?:[0-9a-f]{32})+$/, 'expected whole SM4 blocks in hex'),
  iv: z.string().regex(/^[0-9a-f]{32}$/, 'expected a 16-byte IV in hex'),
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
  code: string,
  what: string,
): z.infer<T> {
  let json: unknown;
  try {
    // A view, not a copy: a batch body is over a megabyte.
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (cause) {
    throw new SyncError(code, `${what} is not JSON`, undefined, { cause });
  }
  return parseValueWith(json, schema, code, what);
}

export function parseValueWith<T extends z.ZodType>(
  json: unknown,
  schema: T,
  code: string,
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
