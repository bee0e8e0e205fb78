import { sm3Hex, sm4CbcDecrypt, sm4CbcEncrypt } from '@sceneway/cloud-sync';
import type { AccessDecision } from '@sceneway/device-drivers';
import type Database from 'better-sqlite3';

/**
 * The parking lot's own tables, in the ledger's SQLite file, written through `withinCommit` so a
 * session, a review entry or a stored snapshot commits with the ledger record of the same passage
 * (after a crash both exist or neither). Plates are kept as keyed digests; where the rules need the
 * text back (comparing a misread with the cars inside, an operator's review) it is SM4-sealed under
 * the box's data key, like the ledger's personal data. Snapshots are addressed by their SM3 digest.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS parking_sessions (
  session_id TEXT PRIMARY KEY, plate_digest TEXT NOT NULL, plate_iv BLOB NOT NULL, plate_sealed BLOB NOT NULL,
  entry_at INTEGER NOT NULL, entry_terminal TEXT NOT NULL, exit_at INTEGER, fee_fen INTEGER) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS parking_open_sessions ON parking_sessions (plate_digest) WHERE exit_at IS NULL;
CREATE TABLE IF NOT EXISTS parking_review (
  review_id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, at INTEGER NOT NULL,
  terminal_id TEXT NOT NULL, reason TEXT NOT NULL, plate_digest TEXT NOT NULL, plate_iv BLOB NOT NULL,
  plate_sealed BLOB NOT NULL, resolved INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS parking_snapshots (
  digest TEXT PRIMARY KEY, iv BLOB NOT NULL, sealed BLOB NOT NULL, stored_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS parking_snapshot_events (
  event_id TEXT PRIMARY KEY, digest TEXT NOT NULL, stored_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS parking_decisions (
  event_id TEXT PRIMARY KEY, decision TEXT NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;
`;

export interface OpenSession {
  sessionId: string;
  plateDigest: string;
  entryAt: number;
  entryTerminal: string;
}

export type ReviewReason = 'EXIT_WITHOUT_ENTRY' | 'LIKELY_MISREAD' | 'ENTRY_WHILE_INSIDE';

export interface ReviewEntry {
  eventId: string;
  at: number;
  terminalId: string;
  reason: ReviewReason;
  plateDigest: string;
}

export interface ParkingStore {
  openSession(plateDigest: string): OpenSession | undefined;
  /** The open sessions whose plate `near` says is close to this one (decrypts the sealed plates). */
  openSessionsWhere(near: (plate: string) => boolean): OpenSession[];
  startSession(session: OpenSession, plate: string): void;
  closeSession(sessionId: string, exitAt: number, feeFen: number | null): void;
  addReview(entry: ReviewEntry, plate: string): void;
  pendingReviews(): ReviewEntry[];
  /** Seals and stores a snapshot of a sighting; returns its digest (the same picture is stored once). */
  putSnapshot(jpeg: Uint8Array, at: number, eventId: string): string;
  snapshotOf(eventId: string): Buffer | undefined;
  /** The picture of a digest, opened (tests and the operator's review). */
  snapshot(digest: string): Buffer | undefined;
  pruneSnapshots(before: number): number;
  cachedDecision(eventId: string): AccessDecision | undefined;
  cacheDecision(eventId: string, decision: AccessDecision, at: number): void;
}

export function openParkingStore(db: Database.Database, dataKey: Buffer): ParkingStore {
  db.exec(SCHEMA);
  const seal = (text: string) => sm4CbcEncrypt(dataKey, Buffer.from(text, 'utf8'));
  const open = (iv: Buffer, sealed: Buffer) => sm4CbcDecrypt(dataKey, iv, sealed).toString('utf8');
  type SessionRow = { session_id: string; plate_digest: string; entry_at: number; entry_terminal: string };
  const toSession = (r: SessionRow): OpenSession => ({
    sessionId: r.session_id,
    plateDigest: r.plate_digest,
    entryAt: r.entry_at,
    entryTerminal: r.entry_terminal,
  });
  const getOpen = db.prepare<[string], SessionRow>(
    'SELECT session_id, plate_digest, entry_at, entry_terminal FROM parking_sessions WHERE plate_digest = ? AND exit_at IS NULL ORDER BY entry_at DESC LIMIT 1',
  );
  const allOpen = db.prepare<[], SessionRow & { plate_iv: Buffer; plate_sealed: Buffer }>(
    'SELECT session_id, plate_digest, entry_at, entry_terminal, plate_iv, plate_sealed FROM parking_sessions WHERE exit_at IS NULL',
  );
  const putSession = db.prepare<[string, string, Buffer, Buffer, number, string]>(
    'INSERT INTO parking_sessions (session_id, plate_digest, plate_iv, plate_sealed, entry_at, entry_terminal) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const endSession = db.prepare<[number, number | null, string]>(
    'UPDATE parking_sessions SET exit_at = ?, fee_fen = ? WHERE session_id = ? AND exit_at IS NULL',
  );
  const putReview = db.prepare<[string, number, string, string, string, Buffer, Buffer]>(
    'INSERT OR IGNORE INTO parking_review (event_id, at, terminal_id, reason, plate_digest, plate_iv, plate_sealed) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const reviews = db.prepare<
    [],
    { event_id: string; at: number; terminal_id: string; reason: ReviewReason; plate_digest: string }
  >(
    'SELECT event_id, at, terminal_id, reason, plate_digest FROM parking_review WHERE resolved = 0 ORDER BY review_id',
  );
  const putSnap = db.prepare<[string, Buffer, Buffer, number]>(
    'INSERT OR IGNORE INTO parking_snapshots (digest, iv, sealed, stored_at) VALUES (?, ?, ?, ?)',
  );
  const getSnap = db.prepare<[string], { iv: Buffer; sealed: Buffer }>(
    'SELECT iv, sealed FROM parking_snapshots WHERE digest = ?',
  );
  const pruneSnap = db.prepare<[number]>('DELETE FROM parking_snapshots WHERE stored_at < ?');
  const pruneLinks = db.prepare<[number]>('DELETE FROM parking_snapshot_events WHERE stored_at < ?');
  const putLink = db.prepare<[string, string, number]>(
    'INSERT OR IGNORE INTO parking_snapshot_events (event_id, digest, stored_at) VALUES (?, ?, ?)',
  );
  const getLink = db
    .prepare<[string], string>('SELECT digest FROM parking_snapshot_events WHERE event_id = ?')
    .pluck();
  const getDecision = db
    .prepare<[string], string>('SELECT decision FROM parking_decisions WHERE event_id = ?')
    .pluck();
  const putDecision = db.prepare<[string, string, number]>(
    'INSERT OR IGNORE INTO parking_decisions (event_id, decision, at) VALUES (?, ?, ?)',
  );

  return {
    openSession: (digest) => {
      const row = getOpen.get(digest);
      return row ? toSession(row) : undefined;
    },
    openSessionsWhere: (near) =>
      allOpen
        .all()
        .filter((r) => near(open(r.plate_iv, r.plate_sealed)))
        .map(toSession),
    startSession(session, plate) {
      const { iv, ciphertext } = seal(plate);
      putSession.run(
        session.sessionId,
        session.plateDigest,
        iv,
        ciphertext,
        session.entryAt,
        session.entryTerminal,
      );
    },
    closeSession(sessionId, exitAt, feeFen) {
      endSession.run(exitAt, feeFen, sessionId);
    },
    addReview(entry, plate) {
      const { iv, ciphertext } = seal(plate);
      putReview.run(
        entry.eventId,
        entry.at,
        entry.terminalId,
        entry.reason,
        entry.plateDigest,
        iv,
        ciphertext,
      );
    },
    pendingReviews: () =>
      reviews.all().map((r) => ({
        eventId: r.event_id,
        at: r.at,
        terminalId: r.terminal_id,
        reason: r.reason,
        plateDigest: r.plate_digest,
      })),
    putSnapshot: db.transaction((jpeg: Uint8Array, at: number, eventId: string) => {
      const digest = sm3Hex(jpeg);
      const { iv, ciphertext } = sm4CbcEncrypt(dataKey, jpeg);
      putSnap.run(digest, iv, ciphertext, at);
      putLink.run(eventId, digest, at);
      return digest;
    }),
    snapshotOf(eventId) {
      const digest = getLink.get(eventId);
      const row = digest === undefined ? undefined : getSnap.get(digest);
      return row ? sm4CbcDecrypt(dataKey, row.iv, row.sealed) : undefined;
    },
    snapshot(digest) {
      const row = getSnap.get(digest);
      return row ? sm4CbcDecrypt(dataKey, row.iv, row.sealed) : undefined;
    },
    pruneSnapshots: (before) => pruneLinks.run(before).changes + pruneSnap.run(before).changes,
    cachedDecision(eventId) {
      const text = getDecision.get(eventId);
      return text === undefined ? undefined : (JSON.parse(text) as AccessDecision);
    },
    cacheDecision(eventId, decision, at) {
      putDecision.run(eventId, JSON.stringify(decision), at);
    },
  };
}
