import { createHash } from 'node:crypto';
import { generateSm2KeyPair, type Sm2KeyPair, sm2Sign } from '@sceneway/cloud-sync';
import type { FirmwareManifest } from '@sceneway/core';
import type { FirmwareImage } from '@sceneway/device-drivers';

/**
 * TESTS ONLY: a face-reader firmware image signed by a vendor key, built in memory the way a package
 * is (manifest per core/src/firmware-manifest.ts, canonical JSON bytes signed with SM2, chunk and
 * whole-image SM3), for driver and simulator tests that need no package file.
 */
export interface VendorKey extends Sm2KeyPair {
  /** SM3 hex of the uncompressed public key: the manifest's vendorKeyId. */
  keyId: string;
}

export function vendorKey(pair: Sm2KeyPair = generateSm2KeyPair()): VendorKey {
  return { ...pair, keyId: createHash('sm3').update(Buffer.from(pair.publicKeyHex, 'hex')).digest('hex') };
}

/** Canonical JSON (RFC 8785 for the values a manifest holds: strings, integers, arrays, objects). */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export interface TestImageOptions {
  bytes: Buffer;
  version: string;
  key: VendorKey;
  /** Signs with this key instead while naming `key` (a forged signature). */
  signWith?: VendorKey;
  models?: string[];
  hardware?: string[];
  minPreviousVersion?: string;
  chunkSize?: number;
  /** Serves these bytes instead of the signed ones (an image altered after signing). */
  servedBytes?: Buffer;
  /** Alters the manifest bytes after signing. */
  tamperManifest?(bytes: Buffer): Buffer;
}

export function signedTestImage(options: TestImageOptions): FirmwareImage {
  const chunkSize = options.chunkSize ?? 64 * 1024;
  const chunks: string[] = [];
  for (let at = 0; at < options.bytes.length; at += chunkSize)
    chunks.push(
      createHash('sm3')
        .update(options.bytes.subarray(at, at + chunkSize))
        .digest('hex'),
    );
  const manifest: FirmwareManifest = {
    format: 1,
    family: 'face-reader',
    models: options.models ?? ['SFR-200'],
    hardware: options.hardware ?? [],
    version: options.version,
    minPreviousVersion: options.minPreviousVersion ?? '1.0.0',
    size: options.bytes.length,
    chunkSize,
    sm3: createHash('sm3').update(options.bytes).digest('hex'),
    chunks,
    releaseNotes: `test image ${options.version}`,
    vendorKeyId: options.key.keyId,
    createdAt: '2026-12-01T12:00:00.000Z',
  };
  const signed = Buffer.from(canonical(manifest), 'utf8');
  const signer = options.signWith ?? options.key;
  const signature = sm2Sign(signed, signer.privateKeyHex, { publicKeyHex: signer.publicKeyHex });
  const served = options.servedBytes ?? options.bytes;
  return {
    manifest,
    manifestBytes: options.tamperManifest ? options.tamperManifest(signed) : signed,
    signature,
    read: async (offset, length) => served.subarray(offset, offset + length),
  };
}
