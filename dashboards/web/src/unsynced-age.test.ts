import { describe, expect, it } from 'vitest';
import type { BoxState } from './fleet-types.ts';
import { ageClass, formatAge, oldestUnsyncedAgeNow } from './unsynced-age.ts';

const RPO = 30 * 60; // 004 §5.2 c

const box = (depth: number, age: number | null, lastHeartbeatAt: number | null): BoxState => ({
  boxId: 'b',
  siteId: 's',
  online: true,
  reason: 'connected',
  session: 1,
  stateSince: 0,
  lastHeartbeatAt,
  agentVersion: '0.1.0',
  health: {
    ledger: { depth, oldestUnsyncedAgeSeconds: age },
    sync: { state: 'idle' },
    terminals: [],
    diskFreeMb: null,
  },
});

describe('oldest unsynced age against the RPO', () => {
  it('is carried forward by the time since the heartbeat while records wait, as the alert rule does', () => {
    expect(oldestUnsyncedAgeNow(box(3, 600, 1_000_000), 1_000_000 + 120_000)).toBe(720);
    expect(oldestUnsyncedAgeNow(box(0, null, 1_000_000), 2_000_000)).toBeNull();
    expect(oldestUnsyncedAgeNow(box(0, 600, 1_000_000), 2_000_000)).toBeNull();
  });

  it('colours by half the RPO and the RPO itself, the RPO being still inside', () => {
    expect(ageClass(null, RPO)).toBe('age-none');
    expect(ageClass(RPO / 2, RPO)).toBe('age-ok');
    expect(ageClass(RPO / 2 + 1, RPO)).toBe('age-warn');
    expect(ageClass(RPO, RPO)).toBe('age-warn');
    expect(ageClass(RPO + 1, RPO)).toBe('age-over');
    expect(formatAge(31 * 60)).toBe('31 min');
  });
});
