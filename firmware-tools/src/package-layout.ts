import { FirmwareRefusedError } from './firmware-refused-error.ts';

/**
 * The fixed header of a `.swfw` package and the limits a reader enforces before it allocates anything
 * (docs/firmware-format.md, "Layout"). Pure: bytes in, numbers out.
 *
 *   offset  size  field
 *   0       4     magic "SWFW"
 *   4       1     container version, 1
 *   5       3     reserved, zero
 *   8       4     manifest length M, u32 big-endian, 2 .. MAX_MANIFEST_BYTES
 *   12      2     signature length S, u16 big-endian, 0 (unsigned) or 8 .. MAX_SIGNATURE_BYTES
 *   14      2     reserved, zero
 *   16      M     manifest: canonical JSON (RFC 8785), the exact bytes signed
 *   16+M    S     SM2 signature, DER SEQUENCE { r, s }
 *   16+M+S  size  image (size from the manifest); nothing after it
 */
export const PACKAGE_MAGIC = Buffer.from('SWFW', 'ascii');
export const CONTAINER_VERSION = 1;
export const HEADER_BYTES = 16;
/** 8,192 chunk digests of 67 bytes each plus 16 KiB of notes fit well inside; a terminal can hold it. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
/** DER SEQUENCE of two INTEGERs of at most 33 bytes: 2 + 2 × 35 = 72. */
export const MAX_SIGNATURE_BYTES = 72;
export const MIN_SIGNATURE_BYTES = 8;

export interface PackageHeader {
  manifestLength: number;
  signatureLength: number;
  /** Offset of the manifest's first byte: always HEADER_BYTES. */
  manifestOffset: number;
  signatureOffset: number;
  /** Offset of the image's first byte. */
  imageOffset: number;
}

export function encodePackageHeader(manifestLength: number, signatureLength: number): Buffer {
  if (!Number.isInteger(manifestLength) || manifestLength < 2 || manifestLength > MAX_MANIFEST_BYTES)
    throw new RangeError(`manifest length ${manifestLength} is outside 2..${MAX_MANIFEST_BYTES}`);
  if (!Number.isInteger(signatureLength) || signatureLength < 0 || signatureLength > MAX_SIGNATURE_BYTES)
    throw new RangeError(`signature length ${signatureLength} is outside 0..${MAX_SIGNATURE_BYTES}`);
  const header = Buffer.alloc(HEADER_BYTES);
  PACKAGE_MAGIC.copy(header, 0);
  header[4] = CONTAINER_VERSION;
  header.writeUInt32BE(manifestLength, 8);
  header.writeUInt16BE(signatureLength, 12);
  return header;
}

/**
 * Reads the header from the first bytes of a file (`fileSize` is the whole file's). An unsigned
 * package is a well-formed header with S = 0: the caller refuses it as FW_UNSIGNED, a different
 * problem from a damaged file.
 */
export function decodePackageHeader(bytes: Uint8Array, fileSize: number): PackageHeader {
  if (bytes.length < HEADER_BYTES || fileSize < HEADER_BYTES) {
    // A file that starts like a package but stops is an incomplete copy; anything else is not ours.
    const head = Buffer.from(bytes.subarray(0, Math.min(bytes.length, 4)));
    if (head.length > 0 && PACKAGE_MAGIC.subarray(0, head.length).equals(head))
      throw new FirmwareRefusedError(
        'FW_TRUNCATED',
        `the package is ${fileSize} bytes, shorter than its header`,
      );
    throw new FirmwareRefusedError('FW_MALFORMED', 'not a firmware package (no "SWFW" header)');
  }
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  if (!b.subarray(0, 4).equals(PACKAGE_MAGIC))
    throw new FirmwareRefusedError('FW_MALFORMED', 'not a firmware package (no "SWFW" magic)');
  if (b[4] !== CONTAINER_VERSION)
    throw new FirmwareRefusedError('FW_MALFORMED', `package container version ${b[4]} is not 1`);
  if (b[5] !== 0 || b[6] !== 0 || b[7] !== 0 || b[14] !== 0 || b[15] !== 0)
    throw new FirmwareRefusedError('FW_MALFORMED', 'reserved header bytes are not zero');
  const manifestLength = b.readUInt32BE(8);
  const signatureLength = b.readUInt16BE(12);
  if (manifestLength < 2 || manifestLength > MAX_MANIFEST_BYTES)
    throw new FirmwareRefusedError(
      'FW_MALFORMED',
      `manifest length ${manifestLength} is outside 2..${MAX_MANIFEST_BYTES} bytes`,
    );
  if (
    signatureLength !== 0 &&
    (signatureLength < MIN_SIGNATURE_BYTES || signatureLength > MAX_SIGNATURE_BYTES)
  )
    throw new FirmwareRefusedError(
      'FW_MALFORMED',
      `signature length ${signatureLength} is outside ${MIN_SIGNATURE_BYTES}..${MAX_SIGNATURE_BYTES} bytes`,
    );
  const signatureOffset = HEADER_BYTES + manifestLength;
  return {
    manifestLength,
    signatureLength,
    manifestOffset: HEADER_BYTES,
    signatureOffset,
    imageOffset: signatureOffset + signatureLength,
  };
}
