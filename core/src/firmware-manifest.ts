/**
 * The signed description of one terminal firmware image (docs/firmware-format.md). The manifest's
 * canonical JSON bytes are what the vendor's SM2 key signs; every field a box or a terminal decides on
 * is here, so nothing about an image is trusted that the signature does not cover.
 */
export const FIRMWARE_FAMILIES = ['canteen-pos', 'face-reader', 'onvif-camera'] as const;
export type FirmwareFamily = (typeof FIRMWARE_FAMILIES)[number];

export interface FirmwareManifest {
  format: 1;
  family: FirmwareFamily;
  /** Terminal models the image is built for (the terminal's reported model must be one of them). */
  models: string[];
  /** Hardware revisions it runs on; empty means any revision of those models. */
  hardware: string[];
  /** "MAJOR.MINOR.PATCH", digits only: what the terminal reports once it runs the image. */
  version: string;
  /** The terminal must run at least this version to take the image (an upgrade path). */
  minPreviousVersion: string;
  /** Image size in bytes. */
  size: number;
  /** Bytes per digest chunk: a power of two, 4 KiB to 1 MiB. */
  chunkSize: number;
  /** SM3 of the whole image, lower-case hex. */
  sm3: string;
  /** SM3 of each chunkSize slice of the image, in order; the last slice may be short. */
  chunks: string[];
  releaseNotes: string;
  /** SM3 (hex) of the vendor's uncompressed SM2 public key: which pinned key must verify. */
  vendorKeyId: string;
  /** When the package was made, ISO 8601 UTC. */
  createdAt: string;
}

/**
 * What a terminal says of itself for a firmware decision: drivers answer it (DriverFirmware.describe),
 * the package library checks a manifest against it (checkFirmwareFits).
 */
export interface FirmwareTerminalInfo {
  terminalId: string;
  family: FirmwareFamily;
  model: string;
  hardware: string;
  /** The running version ("M.m.p"), or null when the terminal cannot be reached now. */
  version: string | null;
}

const VERSION = /^(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})\.(0|[1-9]\d{0,8})$/;

export function isFirmwareVersion(text: string): boolean {
  return VERSION.test(text);
}

/** Orders two "M.m.p" versions numerically: negative when a < b, 0 when equal, positive when a > b. */
export function compareFirmwareVersions(a: string, b: string): number {
  const pa = VERSION.exec(a);
  const pb = VERSION.exec(b);
  if (!pa || !pb) throw new RangeError(`not a firmware version (M.m.p): ${JSON.stringify(pa ? b : a)}`);
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return d;
  }
  return 0;
}
