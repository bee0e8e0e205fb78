import { z } from 'zod';

/**
 * The firmware part of the face-reader protocol (docs/protocols/face-reader.md §8). The box announces
 * an update on `firmware`; the reader fetches the image from the box over HTTP with Range requests,
 * checks it against the signed manifest with its own pinned vendor key, reports on `firmware/report`,
 * activates its other slot and reboots; after it is back, its `status` names what it runs (`fw`).
 */
const FW_PROTOCOL_VERSION = 1;

const version = z.string().regex(/^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$/, 'M.m.p');
/** One transfer (or rollback) of the box: the reader names it in every report about it. */
const transferId = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, '1-64 of A-Z a-z 0-9 . _ -');
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');

/** `status.fw`: what the reader runs, and what became of the last update or rollback it was given. */
export const readerFirmwareStatusSchema = z
  .object({
    model: z.string().min(1).max(64),
    hardware: z.string().max(64),
    /** The running image's manifest version, exactly as signed. */
    version,
    /** Whether the running image passed the reader's signature check (a factory image may not have). */
    signed: z.boolean(),
    slot: z.enum(['a', 'b']),
    last: z
      .object({
        transferId,
        /** booted: the new slot runs; boot-failed: it did not boot, the old slot runs; rolled-back. */
        result: z.enum(['booted', 'boot-failed', 'rolled-back']),
      })
      .strict()
      .optional(),
  })
  .strict();
export type ReaderFirmwareStatus = z.infer<typeof readerFirmwareStatusSchema>;

/** `firmware` (box → reader): take this image. */
export const firmwareUpdateSchema = z
  .object({
    v: z.literal(FW_PROTOCOL_VERSION),
    op: z.literal('update'),
    transferId,
    /** The manifest's exact signed bytes (canonical JSON), base64; the reader parses what it verified. */
    manifest: base64.max(2_000_000),
    /** The vendor's DER SM2 signature over those bytes, base64. */
    signature: base64.max(200),
    /** Where to GET the image: the box's image server, this reader's and this transfer's path. */
    url: z.string().url().max(300),
    /** Bearer token for that URL: bound to this reader and this image, valid until expiresAt. */
    token: z.string().regex(/^[A-Za-z0-9_-]{43}$/, '32 bytes, base64url'),
    /** Box clock, Unix ms: after this the image server refuses the token. */
    expiresAt: z.number().int(),
  })
  .strict();
export type FirmwareUpdate = z.infer<typeof firmwareUpdateSchema>;

/** `firmware` (box → reader): go back to the image of the other slot. */
export const firmwareRollbackSchema = z
  .object({ v: z.literal(FW_PROTOCOL_VERSION), op: z.literal('rollback'), transferId })
  .strict();
export type FirmwareRollback = z.infer<typeof firmwareRollbackSchema>;

export const firmwareCommandSchema = z.discriminatedUnion('op', [
  firmwareUpdateSchema,
  firmwareRollbackSchema,
]);
export type FirmwareCommand = z.infer<typeof firmwareCommandSchema>;

/**
 * `firmware/report` (reader → box): where a transfer stands. `refused` is final and not worth retrying
 * (a signature, digest, model or version refusal); `failed` is final for this transfer but a later
 * one may succeed (the download gave up, the token expired). `rebooting` is the last report before the
 * reader drops off; the outcome then comes in its next `status`.
 */
export const firmwareReportSchema = z
  .object({
    v: z.literal(FW_PROTOCOL_VERSION),
    transferId,
    state: z.enum(['downloading', 'verifying', 'activating', 'rebooting', 'refused', 'failed']),
    bytesDone: z.number().int().min(0).optional(),
    bytesTotal: z.number().int().min(0).optional(),
    /** For refused / failed: a stable code (FW_SIGNATURE_INVALID, FW_DIGEST_MISMATCH, …). */
    code: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]{1,63}$/)
      .optional(),
    detail: z.string().max(200).optional(),
    at: z.number().int(),
  })
  .strict();
export type FirmwareReport = z.infer<typeof firmwareReportSchema>;

export { FW_PROTOCOL_VERSION };
