import { DRIVER_ERROR_CODES, type DriverErrorCode } from './driver-codes.ts';
import { FIRMWARE_ERROR_CODES, type FirmwareErrorCode } from './firmware-codes.ts';
import { GATEWAY_ERROR_CODES, type GatewayErrorCode } from './gateway-codes.ts';
import { SYNC_ERROR_CODES, type SyncErrorCode } from './sync-codes.ts';

export { DRIVER_ERROR_CODES, type DriverErrorCode } from './driver-codes.ts';
export { FIRMWARE_ERROR_CODES, type FirmwareErrorCode } from './firmware-codes.ts';
export { GATEWAY_ERROR_CODES, type GatewayErrorCode } from './gateway-codes.ts';
export { type BankRefusalCode, SYNC_ERROR_CODES, type SyncErrorCode } from './sync-codes.ts';

/** Every stable code of the family: what a log line, an alert or a refusal may carry. */
export type SceneErrorCode = GatewayErrorCode | SyncErrorCode | DriverErrorCode | FirmwareErrorCode;

/** The layers and their codes, in the order docs/error-codes.md lists them. */
export const ERROR_CODE_LAYERS = [
  { layer: 'gateway-agent', errorClass: 'GatewayError', codes: GATEWAY_ERROR_CODES },
  { layer: 'cloud-sync', errorClass: 'SyncError', codes: SYNC_ERROR_CODES },
  { layer: 'device-drivers', errorClass: 'DriverError', codes: DRIVER_ERROR_CODES },
  { layer: 'firmware-tools', errorClass: 'FirmwareRefusedError', codes: FIRMWARE_ERROR_CODES },
] as const;

const syncCodes: ReadonlySet<string> = new Set(SYNC_ERROR_CODES.map((c) => c.code));
const gatewayCodes: ReadonlySet<string> = new Set(GATEWAY_ERROR_CODES.map((c) => c.code));

/**
 * For a code that crossed a boundary as plain text (a worker thread's reply, a bank refusal body):
 * TypeScript cannot check those, so they are checked here before they become a SyncError.
 */
export function isSyncErrorCode(code: string): code is SyncErrorCode {
  return syncCodes.has(code);
}

/** As isSyncErrorCode, for the gateway agent's codes. */
export function isGatewayErrorCode(code: string): code is GatewayErrorCode {
  return gatewayCodes.has(code);
}
