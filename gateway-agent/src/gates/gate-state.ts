import type Database from 'better-sqlite3';

/**
 * What the gate rules remember between events, in the ledger's SQLite file: consecutive recognition
 * failures and lockouts (by person digest and by reader: 004 §5.3.2 b) 6) counts "from the user and
 * the device dimensions"), and who is inside which zone (anti-passback). Persons are keyed digests,
 * never clear ids.
 *
 * Decisions are synchronous on the in-memory view, so two events in flight never both see the old
 * state; each decision's rows are written by `persist` inside the very transaction that commits its
 * ledger record (withinCommit), so after a crash the state matches the records.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS gate_failures (
  scope TEXT NOT NULL, subject TEXT NOT NULL, failures INTEGER NOT NULL, locked_until INTEGER NOT NULL,
  PRIMARY KEY (scope, subject)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS gate_presence (
  zone TEXT NOT NULL, person TEXT NOT NULL, direction TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (zone, person)) WITHOUT ROWID;
`;

export type FailureScope = 'person' | 'reader';

export interface FailureState {
  failures: number;
  /** Box ms until which recognition is suspended; 0 when not locked. */
  lockedUntil: number;
}

export interface PresenceState {
  direction: 'in' | 'out';
  at: number;
}

/** One decision's changes, applied in memory at once and to SQLite in its record's commit. */
export interface StateChange {
  failures: Array<{ scope: FailureScope; subject: string; state: FailureState }>;
  presence: Array<{ zone: string; person: string; state: PresenceState }>;
}

export interface GateState {
  failureOf(scope: FailureScope, subject: string): FailureState;
  presenceOf(zone: string, person: string): PresenceState | undefined;
  /** In memory now; returns the writer to run in the record's commit. */
  apply(change: StateChange): (db: Database.Database) => void;
  /** Forgets a person everywhere (their record is deleted): memory and SQLite. */
  forgetPerson(person: string): void;
  /** Rereads SQLite (after a commit failed, memory may be ahead of it). */
  reload(): void;
}

const NONE: FailureState = { failures: 0, lockedUntil: 0 };

export function openGateState(db: Database.Database): GateState {
  db.exec(SCHEMA);
  const failures = new Map<string, FailureState>();
  const presence = new Map<string, PresenceState>();
  const fkey = (scope: FailureScope, subject: string) => `${scope}\u0000${subject}`;
  const pkey = (zone: string, person: string) => `${zone}\u0000${person}`;
  const putFailure = db.prepare<[string, string, number, number]>(
    `INSERT INTO gate_failures (scope, subject, failures, locked_until) VALUES (?, ?, ?, ?)
     ON CONFLICT (scope, subject) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until`,
  );
  const dropFailure = db.prepare<[string, string]>(
    'DELETE FROM gate_failures WHERE scope = ? AND subject = ?',
  );
  const putPresence = db.prepare<[string, string, string, number]>(
    `INSERT INTO gate_presence (zone, person, direction, at) VALUES (?, ?, ?, ?)
     ON CONFLICT (zone, person) DO UPDATE SET direction = excluded.direction, at = excluded.at`,
  );

  const reload = () => {
    failures.clear();
    presence.clear();
    for (const r of db
      .prepare<[], { scope: FailureScope; subject: string; failures: number; locked_until: number }>(
        'SELECT scope, subject, failures, locked_until FROM gate_failures',
      )
      .all())
      failures.set(fkey(r.scope, r.subject), { failures: r.failures, lockedUntil: r.locked_until });
    for (const r of db
      .prepare<[], { zone: string; person: string; direction: 'in' | 'out'; at: number }>(
        'SELECT zone, person, direction, at FROM gate_presence',
      )
      .all())
      presence.set(pkey(r.zone, r.person), { direction: r.direction, at: r.at });
  };
  reload();

  return {
    failureOf: (scope, subject) => failures.get(fkey(scope, subject)) ?? NONE,
    presenceOf: (zone, person) => presence.get(pkey(zone, person)),
    apply(change) {
      for (const f of change.failures) {
        if (f.state.failures === 0 && f.state.lockedUntil === 0) failures.delete(fkey(f.scope, f.subject));
        else failures.set(fkey(f.scope, f.subject), f.state);
      }
      for (const p of change.presence) presence.set(pkey(p.zone, p.person), p.state);
      return () => {
        for (const f of change.failures) {
          if (f.state.failures === 0 && f.state.lockedUntil === 0) dropFailure.run(f.scope, f.subject);
          else putFailure.run(f.scope, f.subject, f.state.failures, f.state.lockedUntil);
        }
        for (const p of change.presence) putPresence.run(p.zone, p.person, p.state.direction, p.state.at);
      };
    },
    forgetPerson(person) {
      failures.delete(fkey('person', person));
      for (const key of [...presence.keys()]) if (key.endsWith(`\u0000${person}`)) presence.delete(key);
      db.transaction(() => {
        dropFailure.run('person', person);
        db.prepare<[string]>('DELETE FROM gate_presence WHERE person = ?').run(person);
      })();
    },
    reload,
  };
}
