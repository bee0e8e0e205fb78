import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { sm2PublicKeyOf, sm2Sign } from '@sceneway/cloud-sync';
import type { FirmwareFamily, FirmwareManifest } from '@sceneway/core';
import { ImageDigester, STREAM_BLOCK_BYTES } from './image-digest.ts';
import { canonicalManifestBytes, checkManifest, MAX_CHUNKS, MIN_CHUNK_SIZE } from './manifest-schema.ts';
import { encodePackageHeader } from './package-layout.ts';
import { vendorKeyIdOf } from './vendor-key.ts';

/** What the vendor decides about an image; the digests, size and key id are computed. */
export interface FirmwarePackFields {
  family: FirmwareFamily;
  models: string[];
  /** Hardware revisions; omitted or empty = any revision of the models. */
  hardware?: string[];
  version: string;
  minPreviousVersion: string;
  releaseNotes?: string;
  /** Power of two, 4 KiB..1 MiB; default 64 KiB (doubled for images above 512 MiB). */
  chunkSize?: number;
  /** ISO 8601 UTC; default now, to the second. */
  createdAt?: string;
}

export interface PackedFirmware {
  manifest: FirmwareManifest;
  manifestBytes: Buffer;
  signature: Buffer;
}

/** 64 KiB: 64 digests for a 4 MiB POS image; resume loses at most 64 KiB over a 115,200 bd line. */
export const DEFAULT_CHUNK_SIZE = 64 * 1024;

export function defaultChunkSize(size: number): number {
  let chunkSize = Math.max(DEFAULT_CHUNK_SIZE, MIN_CHUNK_SIZE);
  while (Math.ceil(size / chunkSize) > MAX_CHUNKS) chunkSize *= 2;
  return chunkSize;
}

function nowToTheSecond(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The manifest for an image whose digests are known, checked against the reader's ranges, and signed. */
function signManifest(
  fields: FirmwarePackFields,
  digest: { size: number; chunkSize: number; sm3: string; chunks: string[] },
  vendorPrivateKeyHex: string,
): PackedFirmware {
  const publicKeyHex = sm2PublicKeyOf(vendorPrivateKeyHex);
  const manifest = checkManifest({
    format: 1,
    family: fields.family,
    models: fields.models,
    hardware: fields.hardware ?? [],
    version: fields.version,
    minPreviousVersion: fields.minPreviousVersion,
    size: digest.size,
    chunkSize: digest.chunkSize,
    sm3: digest.sm3,
    chunks: digest.chunks,
    releaseNotes: fields.releaseNotes ?? '',
    vendorKeyId: vendorKeyIdOf(publicKeyHex),
    createdAt: fields.createdAt ?? nowToTheSecond(),
  });
  const manifestBytes = canonicalManifestBytes(manifest);
  const signature = sm2Sign(manifestBytes, vendorPrivateKeyHex, { publicKeyHex });
  return { manifest, manifestBytes, signature };
}

/** Header ‖ manifest ‖ signature ‖ image. An empty signature makes an unsigned package (tests). */
export function assembleFirmwarePackage(parts: {
  manifestBytes: Uint8Array;
  signature: Uint8Array;
  image: Uint8Array;
}): Buffer {
  return Buffer.concat([
    encodePackageHeader(parts.manifestBytes.length, parts.signature.length),
    parts.manifestBytes,
    parts.signature,
    parts.image,
  ]);
}

/**
 * A signed package from an image in memory: for tests, simulators and small images. Throws
 * FirmwareRefusedError FW_MALFORMED naming the field when a field is outside the manifest's ranges.
 */
export function packFirmware(input: {
  image: Uint8Array;
  fields: FirmwarePackFields;
  vendorPrivateKeyHex: string;
}): PackedFirmware & { bytes: Buffer } {
  const chunkSize = input.fields.chunkSize ?? defaultChunkSize(input.image.length);
  const digester = new ImageDigester(chunkSize);
  digester.update(input.image);
  const packed = signManifest(
    input.fields,
    { size: input.image.length, chunkSize, ...digester.finish() },
    input.vendorPrivateKeyHex,
  );
  return { ...packed, bytes: assembleFirmwarePackage({ ...packed, image: input.image }) };
}

export type PackPhase = 'digest' | 'write';

/**
 * A signed package from an image file, streamed twice (digests, then the copy), never whole in memory.
 * The copy is hashed again and must match: an image that changed between the passes makes no package.
 * Written to `<out>.partial` and renamed, so a package file is always complete.
 */
export async function packFirmwareFile(input: {
  imagePath: string;
  outPath: string;
  fields: FirmwarePackFields;
  vendorPrivateKeyHex: string;
  onProgress?(phase: PackPhase, bytesDone: number, bytesTotal: number): void;
}): Promise<PackedFirmware> {
  const image = await open(input.imagePath, 'r');
  const partial = `${input.outPath}.partial`;
  try {
    const size = (await image.stat()).size;
    const chunkSize = input.fields.chunkSize ?? defaultChunkSize(size);
    const digester = new ImageDigester(chunkSize);
    await streamFile(image, size, (block, done) => {
      digester.update(block);
      input.onProgress?.('digest', done, size);
    });
    const packed = signManifest(
      input.fields,
      { size, chunkSize, ...digester.finish() },
      input.vendorPrivateKeyHex,
    );
    const out = await open(partial, 'w', 0o644);
    try {
      await out.write(encodePackageHeader(packed.manifestBytes.length, packed.signature.length));
      await out.write(packed.manifestBytes);
      await out.write(packed.signature);
      const again = createHash('sm3');
      await streamFile(image, size, async (block, done) => {
        again.update(block);
        await out.write(block);
        input.onProgress?.('write', done, size);
      });
      if (again.digest('hex') !== packed.manifest.sm3)
        throw new Error(`${input.imagePath} changed while it was being packed: no package written`);
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(partial, input.outPath);
    return packed;
  } catch (err) {
    await rm(partial, { force: true });
    throw err;
  } finally {
    await image.close();
  }
}

async function streamFile(
  handle: Awaited<ReturnType<typeof open>>,
  size: number,
  onBlock: (block: Buffer, done: number) => void | Promise<void>,
): Promise<void> {
  const block = Buffer.allocUnsafe(Math.max(1, Math.min(STREAM_BLOCK_BYTES, size)));
  let done = 0;
  while (done < size) {
    const { bytesRead } = await handle.read(block, 0, Math.min(block.length, size - done), done);
    if (bytesRead === 0) throw new Error('the image file became shorter while it was being packed');
    done += bytesRead;
    await onBlock(block.subarray(0, bytesRead), done);
  }
}
