import type { FirmwareImage } from '../driver-api.ts';

/**
 * The body of a StartFirmwareUpgrade upload: the .swfw package itself (docs/firmware-format.md),
 * rebuilt from the verified pieces the agent hands the driver, so that the camera receives the exact
 * signed manifest bytes and the vendor's signature ahead of the image and checks both with its own
 * pinned key before it flashes anything. ONVIF leaves the file format to the vendor; this is ours.
 *
 * Streamed in `sliceBytes` reads of the image: a camera image is tens of MiB and is never held whole.
 */
const MAGIC = Buffer.from('SWFW', 'ascii');
const CONTAINER_VERSION = 1;
const HEADER_BYTES = 16;
const DEFAULT_SLICE = 64 * 1024;

/**
 * The package head as docs/firmware-format.md lays it out: magic "SWFW", container version 1, three
 * zero bytes, the manifest length (u32 BE), the signature length (u16 BE), two zero bytes; then the
 * manifest's signed bytes and the DER signature. The image follows, and nothing after it.
 */
export function packageHead(image: FirmwareImage): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header[4] = CONTAINER_VERSION;
  header.writeUInt32BE(image.manifestBytes.length, 8);
  header.writeUInt16BE(image.signature.length, 12);
  return Buffer.concat([header, image.manifestBytes, image.signature]);
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
