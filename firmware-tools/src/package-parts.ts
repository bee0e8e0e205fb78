import { open } from 'node:fs/promises';
import { FirmwareRefusedError } from './firmware-refused-error.ts';
import { decodePackageHeader, HEADER_BYTES, type PackageHeader } from './package-layout.ts';

/**
 * A package's parts as stored, nothing verified: what `sceneway-fw inspect` shows and extracts, so an
 * auditor can check the signature with other tools (docs/firmware-format.md, "Checking with OpenSSL").
 * Never hand these to a terminal: openFirmwarePackage is the only way to a VerifiedFirmware.
 */
export interface UnverifiedPackageParts {
  header: PackageHeader;
  fileSize: number;
  manifestBytes: Buffer;
  signature: Buffer;
  /** Bytes stored after the signature (the image, if the package is whole). */
  imageLength: number;
}

export async function readPackageParts(path: string): Promise<UnverifiedPackageParts> {
  const handle = await open(path, 'r');
  try {
    const fileSize = (await handle.stat()).size;
    const head = Buffer.alloc(Math.min(HEADER_BYTES, fileSize));
    await handle.read(head, 0, head.length, 0);
    const header = decodePackageHeader(head, fileSize);
    if (fileSize < header.imageOffset)
      throw new FirmwareRefusedError(
        'FW_TRUNCATED',
        `the package is ${fileSize} bytes and ends before its image`,
      );
    const manifestBytes = Buffer.alloc(header.manifestLength);
    await handle.read(manifestBytes, 0, manifestBytes.length, header.manifestOffset);
    const signature = Buffer.alloc(header.signatureLength);
    if (signature.length) await handle.read(signature, 0, signature.length, header.signatureOffset);
    return { header, fileSize, manifestBytes, signature, imageLength: fileSize - header.imageOffset };
  } finally {
    await handle.close();
  }
}
