import { canonicalBytes, hasLoneSurrogate } from '@sceneway/cloud-sync';
import {
  compareFirmwareVersions,
  FIRMWARE_FAMILIES,
  type FirmwareManifest,
  isFirmwareVersion,
} from '@sceneway/core';
import { z } from 'zod';
import { FirmwareRefusedError } from './firmware-refused-error.ts';

/**
 * The manifest's ranges (docs/firmware-format.md, "Manifest"), checked after the signature and
 * before any field is used. Strict: a field this reader does not know is refused, because a terminal
 * that ignored it could act on a package differently from the box that approved it.
 */
export const MIN_CHUNK_SIZE = 4 * 1024;
export const MAX_CHUNK_SIZE = 1024 * 1024;
export const MAX_CHUNKS = 8192;
/** u32: what a terminal's size field holds. */
export const MAX_IMAGE_BYTES = 0xffff_ffff;
export const MAX_RELEASE_NOTES_BYTES = 16 * 1024;
export const MAX_NAMES = 64;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'lower-case hex of 32 bytes');
/** Printable ASCII, 1-64 characters, no space at either end: models and revisions as terminals report them. */
const name = z.string().regex(/^[!-~](?:[ -~]{0,62}[!-~])?$/, 'printable ASCII, 1-64 characters');
const names = z
  .array(name)
  .max(MAX_NAMES)
  .refine((a) => new Set(a).size === a.length, 'names must be unique');
const version = z.string().refine(isFirmwareVersion, 'M.m.p, digits only');
const utcInstant = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z$/, 'ISO 8601 UTC, e.g. 2026-12-01T12:00:00Z')
  .refine((s) => !Number.isNaN(Date.parse(s)) && new Date(s).toISOString().slice(0, 19) === s.slice(0, 19), {
    message: 'not a real date and time',
  });

export const firmwareManifestSchema = z
  .strictObject({
    format: z.literal(1),
    family: z.enum(FIRMWARE_FAMILIES),
    models: names.min(1),
    hardware: names,
    version,
    minPreviousVersion: version,
    size: z.number().int().min(1).max(MAX_IMAGE_BYTES),
    chunkSize: z
      .number()
      .int()
      .min(MIN_CHUNK_SIZE)
      .max(MAX_CHUNK_SIZE)
      .refine((n) => (n & (n - 1)) === 0, 'a power of two'),
    sm3: hex64,
    chunks: z.array(hex64).min(1).max(MAX_CHUNKS),
    releaseNotes: z
      .string()
      .refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_RELEASE_NOTES_BYTES, 'at most 16 KiB of UTF-8')
      .refine((s) => !hasLoneSurrogate(s), 'no lone UTF-16 surrogates'),
    vendorKeyId: hex64,
    createdAt: utcInstant,
  })
  .superRefine((m, ctx) => {
    const expected = Math.ceil(m.size / m.chunkSize);
    if (Array.isArray(m.chunks) && Number.isInteger(expected) && m.chunks.length !== expected)
      ctx.addIssue({
        code: 'custom',
        path: ['chunks'],
        message: `${m.chunks.length} chunk digests for ${m.size} bytes in chunks of ${m.chunkSize}: expected ${expected}`,
      });
    // Guarded: zod may run this refinement after a field's own check has already failed.
    if (
      isFirmwareVersion(m.minPreviousVersion) &&
      isFirmwareVersion(m.version) &&
      compareFirmwareVersions(m.minPreviousVersion, m.version) > 0
    )
      ctx.addIssue({
        code: 'custom',
        path: ['minPreviousVersion'],
        message: `${m.minPreviousVersion} is above the image's own version ${m.version}`,
      });
  });

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.length ? issue.path.map(String).join('.') : '(root)';
  return `${path}: ${issue.message}`;
}

/** Checks a manifest value built in memory (packFirmware) against the same ranges a reader applies. */
export function checkManifest(value: unknown): FirmwareManifest {
  const parsed = firmwareManifestSchema.safeParse(value);
  if (!parsed.success) throw new FirmwareRefusedError('FW_MALFORMED', `manifest.${firstIssue(parsed.error)}`);
  return parsed.data as FirmwareManifest;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** UTF-8 → JSON, without a schema: what the reader needs to name the vendor key of an unverified package. */
export function parseManifestJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(bytes));
  } catch (cause) {
    throw new FirmwareRefusedError('FW_MALFORMED', 'the manifest is not UTF-8 JSON', { cause });
  }
}

/**
 * Signed bytes → manifest. The bytes must be the RFC 8785 form of what they parse to: then there is
 * one byte string per manifest, so a terminal that re-encodes the manifest verifies the same bytes, and
 * duplicate members or other JSON a second parser might read differently are refused.
 */
export function parseManifestBytes(bytes: Uint8Array): FirmwareManifest {
  const manifest = checkManifest(parseManifestJson(bytes));
  if (!canonicalManifestBytes(manifest).equals(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)))
    throw new FirmwareRefusedError(
      'FW_MALFORMED',
      'the manifest bytes are not canonical JSON (RFC 8785): members out of order, spacing or duplicates',
    );
  return manifest;
}

/** The bytes a vendor signs for `manifest`. */
export function canonicalManifestBytes(manifest: FirmwareManifest): Buffer {
  try {
    return canonicalBytes(manifest);
  } catch (cause) {
    throw new FirmwareRefusedError('FW_MALFORMED', 'the manifest has no canonical JSON form', { cause });
  }
}
