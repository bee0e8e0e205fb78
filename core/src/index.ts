// @sceneway/core: what every Sceneway package may import, and which depends on nothing of ours —
// reconnect backoff, the injected clock, the error family with its stable codes, the one masking
// function for personal identifiers and the log redaction paths every logger uses.
export { type BackoffPolicy, fullJitterDelay, sleep } from './backoff.ts';
export { type Clock, manualClock, systemClock } from './clock.ts';
export {
  type BankRefusalCode,
  DRIVER_ERROR_CODES,
  type DriverErrorCode,
  ERROR_CODE_LAYERS,
  FIRMWARE_ERROR_CODES,
  type FirmwareErrorCode,
  GATEWAY_ERROR_CODES,
  type GatewayErrorCode,
  isGatewayErrorCode,
  isSyncErrorCode,
  type SceneErrorCode,
  SYNC_ERROR_CODES,
  type SyncErrorCode,
} from './error-codes/index.ts';
export {
  compareFirmwareVersions,
  FIRMWARE_FAMILIES,
  type FirmwareFamily,
  type FirmwareManifest,
  type FirmwareTerminalInfo,
  isFirmwareVersion,
} from './firmware-manifest.ts';
export { censorUnlessMasked, REDACTED_LOG_FIELDS, redactedLogPaths } from './log-redaction.ts';
export {
  type CredentialToMask,
  type Masked,
  maskCredential,
  maskedConstant,
  maskLabelled,
  maskTail,
  type SafeLogFields,
} from './mask.ts';
export { PRIVATE_FILE_MODE, preparePrivateDatabaseFile, restrictToOwner } from './private-file.ts';
export { isSceneError, SceneError } from './scene-error.ts';
