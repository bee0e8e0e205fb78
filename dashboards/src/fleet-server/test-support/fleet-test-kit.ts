import type { TelemetryHealth, TelemetryHeartbeat } from '@sceneway/gateway-agent';

/** The machine's PostgreSQL (trust, database `test`) unless SCENEWAY_TEST_PG_URL names another. */
export const TEST_PG_URL = process.env.SCENEWAY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** The machine's Mosquitto unless SCENEWAY_TEST_MQTT_URL names another. */
export const TEST_MQTT_URL = process.env.SCENEWAY_TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

export function healthOf(overrides: Partial<TelemetryHealth> = {}): TelemetryHealth {
  return {
    uptimeSeconds: 10,
    ledger: { depth: 0, oldestUnsyncedAgeSeconds: null, headSeq: 0, lastSyncedSeq: 0 },
    sync: { state: 'idle', consecutiveFailures: 0, lastErrorCode: null, stoppedByRejectedBatch: false },
    terminals: [{ id: 'till-1', driver: 'canteen-pos', up: true, firmware: 'POS-2.4.1' }],
    diskFreeMb: 10_000,
    clockDriftMs: 0,
    cpu: { load1: 0.5, cores: 2, processPercent: 1 },
    memory: { rssMb: 80, systemFreeMb: 1000, systemTotalMb: 4000 },
    ...overrides,
  };
}

export function heartbeatOf(
  boxId: string,
  at: { session: number; seq: number },
  health: TelemetryHealth = healthOf(),
): TelemetryHeartbeat {
  return {
    v: 1,
    boxId,
    siteId: 'site-a',
    session: at.session,
    seq: at.seq,
    sentAt: at.session + at.seq,
    agentVersion: '0.1.0',
    health,
    offline: null,
  };
}
