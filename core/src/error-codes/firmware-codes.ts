/**
 * Codes of firmware packages (FirmwareRefusedError in @sceneway/firmware-tools, docs/firmware-format.md):
 * why a package is refused before any byte of it reaches a terminal, and why a verified package does not
 * fit a given terminal. Every refusal names the package's problem, not a stack trace. A code is a
 * contract with support and the fleet: never rename or reuse one. docs/error-codes.md is generated
 * from this list (`npm run docs:errors`).
 */
export const FIRMWARE_ERROR_CODES = [
  {
    code: 'FW_DIGEST_MISMATCH',
    description:
      'A chunk or the whole image does not have the SM3 digest the signed manifest gives: corrupted or altered.',
  },
  {
    code: 'FW_DOWNGRADE',
    description:
      'The image is older than the version the terminal runs; only a campaign rollback may install it.',
  },
  {
    code: 'FW_MALFORMED',
    description:
      'The file is not a firmware package of format 1 (header, manifest schema, canonical bytes or trailing bytes).',
  },
  {
    code: 'FW_PREVIOUS_TOO_OLD',
    description:
      'The terminal runs a version below the manifest minPreviousVersion: install the intermediate release first.',
  },
  {
    code: 'FW_SAME_VERSION',
    description: 'The terminal already runs this version: nothing to install.',
  },
  {
    code: 'FW_SIGNATURE_INVALID',
    description: "The manifest's SM2 signature does not verify under the pinned vendor key it names.",
  },
  {
    code: 'FW_TRUNCATED',
    description: 'The package ends before its header, manifest, signature or image does (incomplete copy).',
  },
  {
    code: 'FW_UNKNOWN_VENDOR_KEY',
    description: 'The manifest names a vendor key that this box does not pin (firmware.vendorKeys).',
  },
  {
    code: 'FW_UNSIGNED',
    description: 'The package carries no signature: a box installs only vendor-signed firmware.',
  },
  {
    code: 'FW_VERSION_UNKNOWN',
    description:
      'The terminal did not report a running version (unreachable, or not M.m.p): the fit cannot be judged.',
  },
  {
    code: 'FW_WRONG_FAMILY',
    description: 'The image is for another terminal family (canteen-pos, face-reader, onvif-camera).',
  },
  {
    code: 'FW_WRONG_HARDWARE',
    description: "The terminal's hardware revision is not among those the manifest lists.",
  },
  {
    code: 'FW_WRONG_MODEL',
    description: "The terminal's model is not among the models the manifest lists.",
  },
] as const;

export type FirmwareErrorCode = (typeof FIRMWARE_ERROR_CODES)[number]['code'];
