import type { FirmwareImage } from '../driver-api.ts';

/**
 * The body of a StartFirmwareUpgrade upload: the .swfw package itself (docs/firmware-format.md),
 * rebuilt from the verified pieces the agent hands the driver, so that the camera receives the exact
 * signed manifest bytes and the vendor's signature ahead of the image and checks both with its own
 * pinned key before it flashes anything. ONVIF leaves the file format to the vendor; this is ours.
 *
 * Streamed in `sliceBytes` reads of the image: a camera image is tens of MiB and is never held whole.
 */
export const PACKAGE_MAGIC = Buffer.from('SWFW', 'ascii');
const FORMAT = 1;
const DEFAULT_SLICE = 64 * 1024;

/** The package header: magic, format, and the lengths of the manifest and the signature that follow. */
export function packageHead(image: FirmwareImage): Buffer {
  const head = Buffer.alloc(4 + 2 + 4 + 2);
  PACKAGE_MAGIC.copy(head, 0);
  head.writeUInt16BE(FORMAT, 4);
  head.writeUInt32BE(image.manifestBytes.length, 6);
  head.writeUInt16BE(image.signature.length, 10);
  return Buffer.concat([head, image.manifestBytes, image.signature]);
}

export function packageLength(image: FirmwareImage): number {
  return packageHead(image).length + image.manifest.size;
}

/** The whole package, in order, from byte 0: ONVIF has no resume, an upload is always whole. */
export async function* packageBytes(
  image: FirmwareImage,
  sliceBytes = DEFAULT_SLICE,
): AsyncGenerator<Uint8Array> {
  yield packageHead(image);
  for (let offset = 0; offset < image.manifest.size; offset += sliceBytes) {
    const length = Math.min(sliceBytes, image.manifest.size - offset);
    const slice = await image.read(offset, length);
    if (slice.length !== length) {
      throw new RangeError(`image read at ${offset} gave ${slice.length} of ${length} bytes`);
    }
    yield slice;
  }
}
