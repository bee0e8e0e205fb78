import type { BoxState } from './fleet-types.ts';

/**
 * The box's oldest unsynced age now: the last reported age carried forward by the time since that
 * heartbeat while records are pending, as the fleet's FLEET_RPO_EXCEEDED rule computes it
 * (dashboards/src/fleet-server/alert-rules.ts), so the colour and the alert agree.
 */
export function oldestUnsyncedAgeNow(box: BoxState, serverNow: number): number | null {
  const h = box.health;
  if (!h || h.ledger.depth === 0 || h.ledger.oldestUnsyncedAgeSeconds === null) return null;
  const since = box.lastHeartbeatAt === null ? 0 : Math.max(0, (serverNow - box.lastHeartbeatAt) / 1000);
  return h.ledger.oldestUnsyncedAgeSeconds + since;
}

export type AgeClass = 'age-none' | 'age-ok' | 'age-warn' | 'age-over';

/** Against the bank's 30-minute RPO (004 §5.2 c): half of it is the early warning. */
export function ageClass(age: number | null, rpoSeconds: number): AgeClass {
  if (age === null) return 'age-none';
  if (age > rpoSeconds) return 'age-over';
  if (age > rpoSeconds / 2) return 'age-warn';
  return 'age-ok';
}

export const AGE_WORDS: Record<AgeClass, string> = {
  'age-none': 'all synced',
  'age-ok': 'within RPO',
  'age-warn': 'over half the RPO',
  'age-over': 'past the RPO',
};

export function formatAge(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export const formatTime = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
