// @sceneway/dashboards/testing: what other packages' tests need to run boxes against a fleet server
// (test-rigs' browser tests): real telemetry parts in child processes, the shared broker, cleanup.
export {
  clearRetainedStatus,
  healthOf,
  killed,
  spawnTelemetryBox,
  TEST_MQTT_URL,
  uniquePrefix,
} from './fleet-server/test-support/fleet-test-kit.ts';
