import { type FileHandle, open } from 'node:fs/promises';
import { sm2Verify } from '@sceneway/cloud-sync';
import type { FirmwareManifest } from '@sceneway/core';
import { FirmwareRefusedError } from './firmware-refused-error.ts';
import { ImageDigester, STREAM_BLOCK_BYTES } from './image-digest.ts';
import { parseManifestBytes, parseManifestJson } from './manifest-schema.ts';
import { decodePackageHeader, HEADER_BYTES, type PackageHeader } from './package-layout.ts';
import { vendorKeyIdOf, vendorPublicKeyHex } from './vendor-key.ts';
import { type VerifiedFirmware, verifiedFirmware } from './verified-firmware.ts';
import { wholeImageSm3InWorker } from './whole-image-digest.ts';

export interface OpenFirmwareOptions {
  /**
   * The vendor keys this box pins (hex 04‖x‖y or PEM): the package must be signed by one of them.
   * A key that is neither throws TypeError (a configuration mistake, not the package's).
   */
  vendorPublicKeys: readonly string[];
  /** Image bytes checked so far, for a progress bar on big images. */
  onProgress?(bytesDone: number, bytesTotal: number): void;
  /**
   * Image size from which the whole-image SM3 runs in a worker thread beside the chunk digests
   * (default 8 MiB: below it, starting a thread costs more than it saves). Infinity: never.
   */
  parallelDigestFrom?: number;
}

export const DEFAULT_PARALLEL_DIGEST_FROM = 8 * 1024 * 1024;

/**
 * Opens a `.swfw` package and verifies all of it before returning (docs/firmware-format.md, "How a box
 * verifies"): header and bounds, then the signature over the manifest bytes by the pinned key the
 * manifest names, then the manifest's schema, then every chunk's SM3 and the whole image's SM3 in one
 * streaming pass (never the whole image in memory). Each failure is a FirmwareRefusedError with the
 * code of the first check that failed; a file that cannot be opened is the filesystem's error.
 */
export async function openFirmwarePackage(
  path: string,
  options: OpenFirmwareOptions,
): Promise<VerifiedFirmware> {
  const pinned = new Map(
    options.vendorPublicKeys.map((k) => {
      const hex = vendorPublicKeyHex(k);
      return [vendorKeyIdOf(hex), hex] as const;
    }),
  );
  const handle = await open(path, 'r');
  try {
    const fileSize = (await handle.stat()).size;
    const header = decodePackageHeader(
      await readExactly(handle, 0, Math.min(HEADER_BYTES, fileSize)),
      fileSize,
    );
    if (header.signatureLength === 0)
      throw new FirmwareRefusedError('FW_UNSIGNED', 'the package carries no signature (signature length 0)');
    if (fileSize < header.imageOffset)
      throw new FirmwareRefusedError(
        'FW_TRUNCATED',
        `the package is ${fileSize} bytes and ends inside its ${fileSize < header.signatureOffset ? 'manifest' : 'signature'}`,
      );
    const manifestBytes = await readExactly(handle, header.manifestOffset, header.manifestLength);
    const signature = await readExactly(handle, header.signatureOffset, header.signatureLength);
    const vendorPublicKeyHex = checkSignature(manifestBytes, signature, pinned);
    const manifest = parseManifestBytes(manifestBytes);
    checkImageLength(header, manifest, fileSize);
    await checkImage(handle, path, header.imageOffset, manifest, options);
    return verifiedFirmware({
      manifest,
      manifestBytes,
      signature,
      packagePath: path,
      imageOffset: header.imageOffset,
      vendorPublicKeyHex,
    });
  } finally {
    await handle.close();
  }
}

/**
 * The manifest names its key; only a pinned key with that id is tried. The JSON is read for that one
 * member before the signature is checked (plain JSON.parse of at most 1 MiB); the schema is applied
 * only to bytes the vendor signed.
 */
function checkSignature(manifestBytes: Buffer, signature: Buffer, pinned: Map<string, string>): string {
  const json = parseManifestJson(manifestBytes);
  const keyId =
    json !== null && typeof json === 'object' && !Array.isArray(json)
      ? (json as Record<string, unknown>)['vendorKeyId']
      : undefined;
  if (typeof keyId !== 'string' || !/^[0-9a-f]{64}$/.test(keyId))
    throw new FirmwareRefusedError('FW_MALFORMED', 'manifest.vendorKeyId: lower-case hex of 32 bytes');
  const key = pinned.get(keyId);
  if (!key)
    throw new FirmwareRefusedError(
      'FW_UNKNOWN_VENDOR_KEY',
      `signed by vendor key ${keyId.slice(0, 16)}…, which this box does not pin`,
    );
  if (!sm2Verify(manifestBytes, signature, key))
    throw new FirmwareRefusedError(
      'FW_SIGNATURE_INVALID',
      `the manifest signature does not verify under pinned vendor key ${keyId.slice(0, 16)}…`,
    );
  return key;
}

function checkImageLength(header: PackageHeader, manifest: FirmwareManifest, fileSize: number): void {
  const expected = header.imageOffset + manifest.size;
  if (fileSize < expected)
    throw new FirmwareRefusedError(
      'FW_TRUNCATED',
      `the image stops after ${fileSize - header.imageOffset} of its ${manifest.size} bytes`,
    );
  if (fileSize > expected)
    throw new FirmwareRefusedError('FW_MALFORMED', `${fileSize - expected} bytes follow the image`);
}

async function checkImage(
  handle: FileHandle,
  path: string,
  imageOffset: number,
  manifest: FirmwareManifest,
  options: OpenFirmwareOptions,
): Promise<void> {
  const parallel = manifest.size >= (options.parallelDigestFrom ?? DEFAULT_PARALLEL_DIGEST_FROM);
  const wholeInWorker = parallel ? wholeImageSm3InWorker(path, imageOffset, manifest.size) : null;
  const digester = new ImageDigester(
    manifest.chunkSize,
    (index, digest) => {
      if (digest !== manifest.chunks[index]) {
        const start = index * manifest.chunkSize;
        const end = Math.min(start + manifest.chunkSize, manifest.size);
        throw new FirmwareRefusedError(
          'FW_DIGEST_MISMATCH',
          `chunk ${index} (image bytes ${start}..${end - 1}) does not have its signed SM3 digest: corrupted`,
        );
      }
    },
    { whole: !parallel },
  );
  let sm3: string | null;
  try {
    const block = Buffer.allocUnsafe(Math.min(STREAM_BLOCK_BYTES, manifest.size));
    for (let done = 0; done < manifest.size; ) {
      const length = Math.min(block.length, manifest.size - done);
      await fill(handle, block, length, imageOffset + done);
      digester.update(block.subarray(0, length));
      done += length;
      options.onProgress?.(done, manifest.size);
    }
    const inline = digester.finish().sm3; // closes (and checks) the last, short chunk
    sm3 = wholeInWorker ? await wholeInWorker.result : inline;
  } finally {
    wholeInWorker?.cancel();
  }
  if (sm3 === null)
    throw new FirmwareRefusedError('FW_TRUNCATED', 'the package became shorter while it was read');
  if (sm3 !== manifest.sm3)
    throw new FirmwareRefusedError(
      'FW_DIGEST_MISMATCH',
      'the whole image does not have its signed SM3 digest (every chunk matched: the manifest is inconsistent)',
    );
}

async function fill(handle: FileHandle, into: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(into, done, length - done, position + done);
    if (bytesRead === 0)
      throw new FirmwareRefusedError('FW_TRUNCATED', 'the package became shorter while it was read');
    done += bytesRead;
  }
}

async function readExactly(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const out = Buffer.alloc(length);
  await fill(handle, out, length, position);
  return out;
}
