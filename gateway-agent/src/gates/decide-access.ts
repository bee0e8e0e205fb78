import type { AccessDecision, DenyReason, FaceRecognition } from '@sceneway/device-drivers';
import type { FailureScope, FailureState, GateState, StateChange } from './gate-state.ts';
import type { GatesConfig, PersonGroup } from './gates-config.ts';
import type { LocalTime } from './local-time.ts';

export interface ReaderPlace {
  zone: string;
  direction: 'in' | 'out';
  antiPassback: boolean;
}

export interface AccessInput {
  readerId: string;
  place: ReaderPlace | undefined;
  recognition: FaceRecognition;
  /** Keyed digest of the person id (null for an unknown face): the only form state and records hold. */
  person: string | null;
  /** The person's group, when the directory lists them. */
  group: PersonGroup | undefined;
  now: number;
  local: LocalTime;
}

export interface AccessOutcome {
  decision: AccessDecision & { reason?: DenyReason };
  change: StateChange;
}

const TEXT: Record<DenyReason, string> = {
  NOT_RECOGNIZED: 'Not recognised',
  LIVENESS_FAILED: 'Not recognised',
  LOCKED_OUT: 'Face recognition paused',
  UNKNOWN_PERSON: 'Not enrolled here',
  OUTSIDE_WINDOW: 'No access now',
  ZONE_NOT_ALLOWED: 'No access here',
  PASSBACK: 'Already passed',
  READER_UNASSIGNED: 'Out of service',
  BAD_EVENT: 'Reader error',
  SYSTEM_ERROR: 'Please wait',
};

const deny = (reason: DenyReason, change: StateChange = { failures: [], presence: [] }): AccessOutcome => ({
  decision: { outcome: 'deny', reason, displayText: TEXT[reason] },
  change,
});

const isLocked = (s: FailureState, now: number) => s.lockedUntil > now;

/**
 * The gate rules for one recognition, pure over the state it reads: the first failing rule denies.
 *
 *   1. the reader guards a zone (READER_UNASSIGNED)
 *   2. neither the reader nor the person is locked out (LOCKED_OUT, 004 §5.3.2 b) 6))
 *   3. liveness passed (LIVENESS_FAILED, 004 §5.3.2 b) 5)) — a failure, counted
 *   4. an enrolled face matched at the site's threshold (NOT_RECOGNIZED) — a failure, counted
 *   5. the person is in the directory (UNKNOWN_PERSON), may enter this zone (ZONE_NOT_ALLOWED) now
 *      (OUTSIDE_WINDOW), and is not passing back (PASSBACK)
 *
 * Counted failures lock the person (when the reader named one) and the reader after
 * `maxConsecutiveFailures` in a row; a recognition that passes 3 and 4 ends both runs. An open moves
 * the person into or out of the zone.
 */
export function decideAccess(input: AccessInput, state: GateState, config: GatesConfig): AccessOutcome {
  const { recognition: r, person, now, readerId } = input;
  if (!input.place) return deny('READER_UNASSIGNED');
  const readerState = state.failureOf('reader', readerId);
  const personState = person ? state.failureOf('person', person) : undefined;
  if (isLocked(readerState, now) || (personState && isLocked(personState, now))) return deny('LOCKED_OUT');

  const failed =
    r.liveness !== 'pass'
      ? 'LIVENESS_FAILED'
      : !person || r.score < config.minMatchScore
        ? 'NOT_RECOGNIZED'
        : null;
  if (failed) {
    const subjects: Array<[FailureScope, string, FailureState]> = [['reader', readerId, readerState]];
    if (person && personState) subjects.push(['person', person, personState]);
    return deny(failed, {
      failures: subjects.map(([scope, subject, s]) => ({
        scope,
        subject,
        state: nextFailure(s, now, config),
      })),
      presence: [],
    });
  }

  // A good recognition ends both runs of failures, whatever the access rules say next.
  const reset: StateChange = {
    failures: [
      ...(readerState.failures > 0 ? [{ scope: 'reader' as const, subject: readerId, state: cleared }] : []),
      ...(person && personState && personState.failures > 0
        ? [{ scope: 'person' as const, subject: person, state: cleared }]
        : []),
    ],
    presence: [],
  };
  const who = person as string;
  const { zone, direction, antiPassback } = input.place;
  if (!input.group) return deny('UNKNOWN_PERSON', reset);
  if (input.group.zones && !input.group.zones.includes(zone)) return deny('ZONE_NOT_ALLOWED', reset);
  const { weekday, hhmm } = input.local;
  const inWindow = input.group.windows.some((w) => w.days.includes(weekday) && w.from <= hhmm && hhmm < w.to);
  if (!inWindow) return deny('OUTSIDE_WINDOW', reset);
  if (antiPassback && state.presenceOf(zone, who)?.direction === direction) return deny('PASSBACK', reset);
  return {
    decision: { outcome: 'open' },
    change: { ...reset, presence: [{ zone, person: who, state: { direction, at: now } }] },
  };
}

const cleared: FailureState = { failures: 0, lockedUntil: 0 };

function nextFailure(s: FailureState, now: number, config: GatesConfig): FailureState {
  // A lockout that has run out starts a fresh count.
  const failures = (s.lockedUntil !== 0 && s.lockedUntil <= now ? 0 : s.failures) + 1;
  if (failures >= config.lockout.maxConsecutiveFailures) {
    return { failures: 0, lockedUntil: now + config.lockout.periodMinutes * 60_000 };
  }
  return { failures, lockedUntil: 0 };
}
