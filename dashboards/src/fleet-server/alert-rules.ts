import type { BoxState } from './fleet-store.ts';

export interface AlertThresholds {
  /** A box whose last heartbeat is older than this is offline even without a last will (seconds). */
  offlineAfterSeconds: number;
  /**
   * Oldest unsynced record older than this raises FLEET_RPO_EXCEEDED. 30 minutes by default: the bank's
   * standard, 004 §5.2 c: "系统恢复时间目标（RTO）为4小时，恢复时间点目标（RPO）为30分钟" (RPO 30 minutes).
   */
  rpoSeconds: number;
  diskLowMb: number;
  clockDriftSeconds: number;
}

export const DEFAULT_THRESHOLDS: AlertThresholds = {
  offlineAfterSeconds: 90,
  rpoSeconds: 30 * 60,
  diskLowMb: 512,
  clockDriftSeconds: 60,
};

export interface WantedAlert {
  code: string;
  message: string;
}

/**
 * The alerts a box should have active now, from its stored state alone (so every replica computes the
 * same set). Health-based rules read the last heartbeat; the oldest unsynced age is carried forward by
 * the time since that heartbeat while records are pending (a box that stopped talking did not sync).
 */
export function wantedAlerts(box: BoxState, now: number, t: AlertThresholds): WantedAlert[] {
  const wanted: WantedAlert[] = [];
  const sinceHeartbeat =
    box.lastHeartbeatAt === null ? null : Math.max(0, (now - box.lastHeartbeatAt) / 1000);
  if (!box.online) {
    wanted.push({ code: 'FLEET_BOX_OFFLINE', message: `${box.boxId} is offline (${box.reason})` });
  } else if (sinceHeartbeat !== null && sinceHeartbeat > t.offlineAfterSeconds) {
    wanted.push({
      code: 'FLEET_BOX_OFFLINE',
      message: `${box.boxId} sent no heartbeat for ${Math.round(sinceHeartbeat)} s`,
    });
  }
  const h = box.health;
  if (!h) return wanted;
  const age = h.ledger.oldestUnsyncedAgeSeconds;
  if (age !== null && h.ledger.depth > 0) {
    const ageNow = age + (sinceHeartbeat ?? 0);
    if (ageNow > t.rpoSeconds)
      wanted.push({
        code: 'FLEET_RPO_EXCEEDED',
        message: `${box.boxId}: oldest unsynced record is ${Math.round(ageNow / 60)} min old (RPO ${Math.round(t.rpoSeconds / 60)} min, 004 §5.2 c)`,
      });
  }
  if (h.sync.stoppedByRejectedBatch)
    wanted.push({
      code: 'FLEET_SYNC_STOPPED',
      message: `${box.boxId}: uploads stopped, the bank refused a batch (${h.sync.lastErrorCode ?? 'no code'})`,
    });
  for (const terminal of h.terminals)
    if (!terminal.up)
      wanted.push({
        code: `FLEET_TERMINAL_DOWN:${terminal.id}`,
        message: `${box.boxId}: terminal ${terminal.id} is down`,
      });
  if (h.diskFreeMb !== null && h.diskFreeMb < t.diskLowMb)
    wanted.push({
      code: 'FLEET_DISK_LOW',
      message: `${box.boxId}: ${Math.round(h.diskFreeMb)} MiB free on the ledger disk`,
    });
  if (h.clockDriftMs !== null && Math.abs(h.clockDriftMs) > t.clockDriftSeconds * 1000)
    wanted.push({
      code: 'FLEET_CLOCK_DRIFT',
      message: `${box.boxId}: box clock ${Math.round(h.clockDriftMs / 1000)} s off the bank's`,
    });
  return wanted;
}
