import { randomBytes } from 'node:crypto';
import { generateSm2KeyPair, type Sm2KeyPair } from '@sceneway/cloud-sync';
import type { FirmwareImage } from '@sceneway/device-drivers';
import { packFirmware } from '@sceneway/firmware-tools';

/**
 * A signed canteen-pos firmware image for the POS tests and the bench, packed by the package library
 * (firmware-tools, docs/firmware-format.md): canonical manifest bytes signed with the vendor's SM2 key,
 * chunk and image digests in SM3. The image stays in memory; `read` serves it as an opened package
 * would (tests that go through a package file use @sceneway/firmware-tools/testing).
 */
export interface TestFirmwareOptions {
  version: string;
  /** Image bytes; default `size` (64 KiB) random bytes. */
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

export function makeTestFirmware(options: TestFirmwareOptions): TestFirmware {
  const image = options.image ?? randomBytes(options.size ?? 64 * 1024);
  const vendor = options.vendor ?? generateSm2KeyPair();
  const packed = packFirmware({
    image,
    fields: {
      family: 'canteen-pos',
      models: options.models ?? ['CP-300'],
      hardware: options.hardware ?? [],
      version: options.version,
      minPreviousVersion: options.minPreviousVersion ?? '0.0.0',
      releaseNotes: `test image ${options.version}`,
      chunkSize: options.chunkSize ?? 64 * 1024,
      createdAt: '2026-12-01T00:00:00Z',
    },
    vendorPrivateKeyHex: vendor.privateKeyHex,
  });
  return {
    manifest: packed.manifest,
    manifestBytes: packed.manifestBytes,
    signature: packed.signature,
    image,
    vendor,
    async read(offset, length) {
      return image.subarray(offset, offset + length);
    },
  };
}
