import { createHash, randomBytes } from 'node:crypto';
import { generateSm2KeyPair, type Sm2KeyPair, sm2Sign } from '@sceneway/cloud-sync';
import type { FirmwareManifest } from '@sceneway/core';
import type { FirmwareImage } from '@sceneway/device-drivers';
import { canonicalManifestBytes, encodePackageHeader } from '@sceneway/firmware-tools';

/**
 * TESTS ONLY: a firmware image for an ONVIF camera in the shape the agent hands a driver (manifest in
 * firmware-tools' canonical bytes, SM3 digests, the vendor's SM2 signature), built in memory so that
 * the camera's own refusals can be tested with what the agent would never pass on: a signature by
 * another key, an image corrupted after signing. Good packages come from firmware-tools' testing entry.
 */
export interface TestFirmware extends FirmwareImage {
  image: Buffer;
}

export function vendorKeys(): Sm2KeyPair {
  return generateSm2KeyPair();
}

const sm3 = (bytes: Uint8Array) => createHash('sm3').update(bytes).digest('hex');

export function testFirmware(options: {
  vendor: Sm2KeyPair;
  version: string;
  size?: number;
  chunkSize?: number;
  models?: string[];
  minPreviousVersion?: string;
  /** Bytes flipped after signing (a corrupted image that still claims the manifest's digests). */
  corrupt?: boolean;
  /** Sign with this key instead of the vendor's (a forged package naming the vendor's key id). */
  signWith?: Sm2KeyPair;
}): TestFirmware {
  const size = options.size ?? 300_000;
  const chunkSize = options.chunkSize ?? 64 * 1024;
  const image = randomBytes(size);
  const chunks: string[] = [];
  for (let at = 0; at < size; at += chunkSize) chunks.push(sm3(image.subarray(at, at + chunkSize)));
  const manifest: FirmwareManifest = {
    format: 1,
    family: 'onvif-camera',
    models: options.models ?? ['LPR-Cam-1'],
    hardware: [],
    version: options.version,
    minPreviousVersion: options.minPreviousVersion ?? '0.0.0',
    size,
    chunkSize,
    sm3: sm3(image),
    chunks,
    releaseNotes: `test image ${options.version}`,
    vendorKeyId: sm3(Buffer.from(options.vendor.publicKeyHex, 'hex')),
    createdAt: new Date().toISOString(),
  };
  const manifestBytes = canonicalManifestBytes(manifest);
  const signer = options.signWith ?? options.vendor;
  const signature = sm2Sign(manifestBytes, signer.privateKeyHex, { publicKeyHex: signer.publicKeyHex });
  if (options.corrupt) image[Math.floor(size / 2)] = (image[Math.floor(size / 2)] as number) ^ 0xff;
  return {
    manifest,
    manifestBytes,
    signature,
    image,
    async read(offset, length) {
      return image.subarray(offset, offset + length);
    },
  };
}

/** The .swfw bytes of a test image, for the upload-URI tests that POST by hand (layout: docs/firmware-format.md). */
export function packageOf(fw: FirmwareImage & { image: Buffer }): Buffer {
  return Buffer.concat([
    encodePackageHeader(fw.manifestBytes.length, fw.signature.length),
    fw.manifestBytes,
    fw.signature,
    fw.image,
  ]);
}
