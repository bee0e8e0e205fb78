export { type AgentHealthSources, agentHealthReader } from './agent-health.ts';
export { createOfflineSummary } from './offline-summary.ts';
export { sessionFile } from './session-file.ts';
export {
  createTelemetryPart,
  type TelemetryEvent,
  type TelemetryLinkConfig,
  type TelemetryPart,
  type TelemetryPartOptions,
} from './telemetry-part.ts';
export {
  type OfflineSummary,
  TELEMETRY_VERSION,
  type TelemetryHealth,
  type TelemetryHeartbeat,
  type TelemetryStatus,
  telemetryHealthSchema,
  telemetryHeartbeatSchema,
  telemetryStatusSchema,
  telemetryTopics,
} from './telemetry-payload.ts';
