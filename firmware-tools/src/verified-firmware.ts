import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { FirmwareManifest } from '@sceneway/core';
import { FirmwareRefusedError } from './firmware-refused-error.ts';

/**
 * A package whose signature, chunk digests and image digest have been checked: what the agent hands
 * a driver (it satisfies device-drivers' `FirmwareImage`). Its bytes stay in the file; `read` serves
 * the image only.
 */
export interface VerifiedFirmware {
  manifest: FirmwareManifest;
  /** The exact signed manifest bytes (canonical JSON). */
  manifestBytes: Uint8Array;
  /** The vendor's DER SM2 signature over manifestBytes. */
  signature: Uint8Array;
  packagePath: string;
  /** Where the image starts in the package file. */
  imageOffset: number;
  /** The pinned vendor key (hex) that verified the signature. */
  vendorPublicKeyHex: string;
  /**
   * `length` bytes of the image from `offset`. Each chunk a read touches is checked again against its
   * signed digest, so a file changed on disk after it was verified is refused (FW_DIGEST_MISMATCH),
   * never sent. RangeError when the range is outside the image.
   */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Everything of a VerifiedFirmware but its reader, which verifiedFirmware() builds over them. */
type VerifiedParts = Omit<VerifiedFirmware, 'read'>;

export function verifiedFirmware(parts: VerifiedParts): VerifiedFirmware {
  const { manifest, packagePath, imageOffset } = parts;
  // Drivers read in frames smaller than a chunk, in order: the last checked chunk serves the next frames.
  let cached: { index: number; bytes: Buffer } | null = null;

  async function chunk(index: number): Promise<Buffer> {
    if (cached?.index === index) return cached.bytes;
    const start = index * manifest.chunkSize;
    const length = Math.min(manifest.chunkSize, manifest.size - start);
    const bytes = Buffer.allocUnsafe(length);
    const handle = await open(packagePath, 'r');
    try {
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(bytes, done, length - done, imageOffset + start + done);
        if (bytesRead === 0)
          throw new FirmwareRefusedError(
            'FW_TRUNCATED',
            `${packagePath} became shorter after it was verified (chunk ${index})`,
          );
        done += bytesRead;
      }
    } finally {
      await handle.close();
    }
    if (createHash('sm3').update(bytes).digest('hex') !== manifest.chunks[index])
      throw new FirmwareRefusedError(
        'FW_DIGEST_MISMATCH',
        `chunk ${index} of ${packagePath} changed after the package was verified`,
      );
    cached = { index, bytes };
    return bytes;
  }

  return {
    ...parts,
    async read(offset, length) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0)
        throw new RangeError(`image read (${offset}, ${length}): offset and length are integers ≥ 0`);
      if (offset + length > manifest.size)
        throw new RangeError(
          `image read (${offset}, ${length}) runs past the image (${manifest.size} bytes)`,
        );
      const out = new Uint8Array(length);
      let pos = offset;
      while (pos < offset + length) {
        const index = Math.floor(pos / manifest.chunkSize);
        const bytes = await chunk(index);
        const from = pos - index * manifest.chunkSize;
        const take = Math.min(bytes.length - from, offset + length - pos);
        // A copy: the caller may keep or change what it gets without touching the checked chunk.
        out.set(bytes.subarray(from, from + take), pos - offset);
        pos += take;
      }
      return out;
    },
  };
}
