// @sceneway/gateway-agent: the public API. Other packages import only from here or from a named entry in
// package.json "exports"; biome refuses deep imports (docs/decisions.md D20).
export { type RunningAgent, startAgent } from './agent.ts';
// The login defences of the broker, reused by the web UIs' logins (fleet dashboard, installer).
export {
  createCheckBudget,
  createLoginThrottle,
  DEFAULT_THROTTLE,
  type LoginThrottle,
} from './broker/login-throttle.ts';
export { createPasswordChecker, type PasswordChecker } from './broker/password-checker.ts';
export { decoyPasswordHash, hashPassword, parsePasswordHash } from './broker/password-hash.ts';
export { issueQrToken, keyedHolderDigests, signBlacklistUpdate } from './canteen/index.ts';
export { systemClock } from './clock.ts';
export { buildBoxConfigSchema, type FullBoxConfig } from './config/driver-config.ts';
export { parseBoxConfig } from './config/load-config.ts';
export { DRIVER_REGISTRY } from './drivers/registry.ts';
export { faceDataKey } from './gates/face-data-store.ts';
export { enrolPerson, removePerson } from './gates/person-enrolment.ts';
export { boxEnrolmentRequest } from './keys/box-enrolment.ts';
export { type BoxSecrets, initBoxKeys, loadBoxKeys } from './keys/box-keys.ts';
export { ENROLMENT_ANSWER_FILE, importEnrolmentAnswer, loadHolderKey } from './keys/holder-key.ts';
export { openTerminalKeyStore, provisionTerminalKey, TERMINAL_KEYS_FILE } from './keys/terminal-keys.ts';
export { openLedger } from './ledger/ledger.ts';
export { verifyLedgerFile } from './ledger/verify-ledger.ts';
export { createLogger, silentLogger } from './logger.ts';
export { createUploader } from './sync/uploader.ts';
export {
  createTelemetryPart,
  type TelemetryEvent,
  type TelemetryHealth,
  type TelemetryHeartbeat,
  type TelemetryStatus,
  telemetryHeartbeatSchema,
  telemetryStatusSchema,
  telemetryTopics,
} from './telemetry/index.ts';
