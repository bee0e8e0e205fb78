// @sceneway/firmware-tools: firmware packages (docs/firmware-format.md). What the agent, the campaign
// and the drivers' tests use: open and verify a package, decide whether it fits a terminal, make one.
export {
  checkFirmwareFits,
  type FirmwareFitCode,
  type FirmwareFitOptions,
  type FirmwareFitRefusal,
  type FirmwareTerminalInfo,
} from './check-fits.ts';
export { FirmwareRefusedError, isFirmwareRefusedError } from './firmware-refused-error.ts';
export { ImageDigester } from './image-digest.ts';
export {
  canonicalManifestBytes,
  checkManifest,
  firmwareManifestSchema,
  MAX_CHUNK_SIZE,
  MAX_CHUNKS,
  MAX_IMAGE_BYTES,
  MAX_RELEASE_NOTES_BYTES,
  MIN_CHUNK_SIZE,
  parseManifestBytes,
} from './manifest-schema.ts';
export { type OpenFirmwareOptions, openFirmwarePackage } from './open-package.ts';
export {
  assembleFirmwarePackage,
  DEFAULT_CHUNK_SIZE,
  defaultChunkSize,
  type FirmwarePackFields,
  type PackedFirmware,
  type PackPhase,
  packFirmware,
  packFirmwareFile,
} from './pack.ts';
export {
  decodePackageHeader,
  encodePackageHeader,
  HEADER_BYTES,
  MAX_MANIFEST_BYTES,
  PACKAGE_MAGIC,
  type PackageHeader,
} from './package-layout.ts';
export { vendorKeyIdOf, vendorPublicKeyHex } from './vendor-key.ts';
export type { VerifiedFirmware } from './verified-firmware.ts';
