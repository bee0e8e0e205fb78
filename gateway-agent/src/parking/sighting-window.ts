import type { AccessDecision } from '@sceneway/device-drivers';
import { oneCharacterApart } from './plate-text.ts';

/**
 * The reads each lane saw in the last window: a camera reports the same car several times while it
 * waits at the barrier (and two reads may be in flight at once), and all of them are one sighting with
 * one decision. A low-confidence read one character away from a recent read on the same lane is the
 * same car misread: it gets that car's decision and is flagged, never a second session.
 */
export interface RecentRead {
  plate: string;
  at: number;
  decision: Promise<AccessDecision>;
}

export type WindowMatch = { kind: 'same'; read: RecentRead } | { kind: 'misread'; read: RecentRead };

export function createSightingWindow(options: { windowMs: number; misreadMaxConfidence: number }) {
  const lanes = new Map<string, RecentRead[]>();
  const fresh = (lane: string, now: number) => {
    const reads = (lanes.get(lane) ?? []).filter((r) => now - r.at <= options.windowMs);
    lanes.set(lane, reads);
    return reads;
  };
  return {
    match(lane: string, plate: string, confidence: number, now: number): WindowMatch | null {
      const reads = fresh(lane, now);
      const same = reads.find((r) => r.plate === plate);
      if (same) return { kind: 'same', read: same };
      if (confidence < options.misreadMaxConfidence) {
        const near = reads.find((r) => oneCharacterApart(r.plate, plate));
        if (near) return { kind: 'misread', read: near };
      }
      return null;
    },
    forget(lane: string, plate: string): void {
      lanes.set(
        lane,
        (lanes.get(lane) ?? []).filter((r) => r.plate !== plate),
      );
    },
    remember(lane: string, plate: string, now: number, decision: Promise<AccessDecision>): void {
      fresh(lane, now).push({ plate, at: now, decision });
    },
  };
}
