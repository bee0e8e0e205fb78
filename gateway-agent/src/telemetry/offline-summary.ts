import type { OfflineSummary, TelemetryHealth } from './telemetry-payload.ts';

/**
 * Heartbeats are not queued while the uplink is down: a box offline for a week would send thousands
 * of stale ones on return, and hold them in memory meanwhile. Instead each missed one folds into a
 * fixed-size summary (counts and worst values) that rides on the first heartbeat after reconnect.
 */
export function createOfflineSummary() {
  let summary: OfflineSummary | null = null;
  const down = new Set<string>();
  return {
    miss(at: number, health: TelemetryHealth): void {
      for (const t of health.terminals) if (!t.up && down.size < 256) down.add(t.id);
      const age = health.ledger.oldestUnsyncedAgeSeconds;
      const prev = summary;
      summary = {
        missedHeartbeats: (prev?.missedHeartbeats ?? 0) + 1,
        firstMissedAt: prev?.firstMissedAt ?? at,
        lastMissedAt: at,
        maxLedgerDepth: Math.max(prev?.maxLedgerDepth ?? 0, health.ledger.depth),
        maxOldestUnsyncedAgeSeconds:
          age === null
            ? (prev?.maxOldestUnsyncedAgeSeconds ?? null)
            : Math.max(prev?.maxOldestUnsyncedAgeSeconds ?? 0, age),
        terminalsDownSeen: [...down],
      };
    },
    /** The summary so far (null when nothing was missed), and a fresh start. */
    take(): OfflineSummary | null {
      const out = summary;
      summary = null;
      down.clear();
      return out;
    },
  };
}
