// @sceneway/firmware-tools/testing: vendors and packages for tests and simulators of every family.
// Production code never imports it (docs/decisions.md D20).
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSm2KeyPair, sm2PublicKeyToPem } from '@sceneway/cloud-sync';
import { openFirmwarePackage } from './open-package.ts';
import { type FirmwarePackFields, type PackedFirmware, packFirmware } from './pack.ts';
import { vendorKeyIdOf } from './vendor-key.ts';
import type { VerifiedFirmware } from './verified-firmware.ts';

export interface TestVendor {
  privateKeyHex: string;
  /** 04‖x‖y hex: what a box or a simulator pins. */
  publicKeyHex: string;
  publicKeyPem: string;
  keyId: string;
}

export function makeTestVendor(): TestVendor {
  const { privateKeyHex, publicKeyHex } = generateSm2KeyPair();
  return {
    privateKeyHex,
    publicKeyHex,
    publicKeyPem: sm2PublicKeyToPem(publicKeyHex),
    keyId: vendorKeyIdOf(publicKeyHex),
  };
}

/** Deterministic image bytes (SM3 in counter mode): the same seed gives the same image in every run. */
export function testFirmwareImage(size: number, seed = 'sceneway test image'): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let block = 0, pos = 0; pos < size; block++, pos += 32) {
    createHash('sm3')
      .update(`${seed}:${block}`)
      .digest()
      .copy(out, pos, 0, Math.min(32, size - pos));
  }
  return out;
}

export const TEST_FIELDS: FirmwarePackFields = {
  family: 'canteen-pos',
  models: ['SW-POS-200'],
  hardware: [],
  version: '2.4.1',
  minPreviousVersion: '2.0.0',
  releaseNotes: 'Test image.',
  chunkSize: 4096,
  createdAt: '2026-12-01T12:00:00Z',
};

/**
 * Packs `image` (default: 40,000 deterministic bytes, ten 4 KiB chunks, the last short) signed by
 * `vendor`, writes `<dir>/<name>` and returns its path with the parts.
 */
export async function writeTestPackage(options: {
  dir: string;
  vendor: TestVendor;
  image?: Uint8Array;
  fields?: Partial<FirmwarePackFields>;
  name?: string;
}): Promise<PackedFirmware & { path: string; bytes: Buffer; image: Uint8Array }> {
  const image = options.image ?? testFirmwareImage(40_000);
  const packed = packFirmware({
    image,
    fields: { ...TEST_FIELDS, ...options.fields },
    vendorPrivateKeyHex: options.vendor.privateKeyHex,
  });
  const path = join(options.dir, options.name ?? `${packed.manifest.family}-${packed.manifest.version}.swfw`);
  await writeFile(path, packed.bytes);
  return { ...packed, path, image };
}

/** A written and verified package: the FirmwareImage a driver's install() receives. */
export async function verifiedTestFirmware(
  options: Parameters<typeof writeTestPackage>[0],
): Promise<VerifiedFirmware> {
  const { path } = await writeTestPackage(options);
  return openFirmwarePackage(path, { vendorPublicKeys: [options.vendor.publicKeyHex] });
}
