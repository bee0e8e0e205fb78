import { createHash, randomBytes } from 'node:crypto';
import { generateSm2KeyPair, type Sm2KeyPair, sm2Sign } from '@sceneway/cloud-sync';
import type { FirmwareManifest } from '@sceneway/core';
import type { FirmwareImage } from '@sceneway/device-drivers';

/**
 * A signed canteen-pos firmware image for tests and the bench, made the way the package format says
 * (core/src/firmware-manifest.ts; docs/firmware-format.md): the manifest's JSON bytes signed with the
 * vendor's SM2 key, chunk and image digests in SM3. The driver gets it exactly as it would get a
 * package the agent opened and verified.
 */
export interface TestFirmwareOptions {
  version: string;
  /** Image bytes; default 64 KiB of random data. */
  image?: Buffer;
  size?: number;
  vendor?: Sm2KeyPair;
  models?: string[];
  hardware?: string[];
  minPreviousVersion?: string;
  chunkSize?: number;
}

export interface TestFirmware extends FirmwareImage {
  image: Buffer;
  vendor: Sm2KeyPair;
}

const sm3 = (data: Uint8Array) => createHash('sm3').update(data).digest('hex');

export function makeTestFirmware(options: TestFirmwareOptions): TestFirmware {
  const image = options.image ?? randomBytes(options.size ?? 64 * 1024);
  const vendor = options.vendor ?? generateSm2KeyPair();
  const chunkSize = options.chunkSize ?? 64 * 1024;
  const chunks: string[] = [];
  for (let at = 0; at < image.length; at += chunkSize) chunks.push(sm3(image.subarray(at, at + chunkSize)));
  const manifest: FirmwareManifest = {
    format: 1,
    family: 'canteen-pos',
    models: options.models ?? ['CP-300'],
    hardware: options.hardware ?? [],
    version: options.version,
    minPreviousVersion: options.minPreviousVersion ?? '0.0.0',
    size: image.length,
    chunkSize,
    sm3: sm3(image),
    chunks,
    releaseNotes: `test image ${options.version}`,
    vendorKeyId: sm3(Buffer.from(vendor.publicKeyHex, 'hex')),
    createdAt: '2026-12-01T00:00:00.000Z',
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest), 'utf8');
  return {
    manifest,
    manifestBytes,
    signature: sm2Sign(manifestBytes, vendor.privateKeyHex, { publicKeyHex: vendor.publicKeyHex }),
    image,
    vendor,
    async read(offset, length) {
      return image.subarray(offset, offset + length);
    },
  };
}
