import { randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Server-side installer sessions: the cookie holds only a random id, the CSRF token is bound to the
 * session (the UI reads it from GET /ui/api/session and sends it as X-CSRF-Token), and a session no
 * request touched for `idleMs` is gone. At most `maxSessions` live at once: logging in again and again
 * drops the oldest, it never grows the table.
 */
export interface InstallerSession {
  id: string;
  csrfToken: string;
  lastSeenAt: number;
}

export interface SessionStore {
  create(): InstallerSession;
  /** The live session of this id (touching it), or null when unknown or idle too long. */
  get(id: string | undefined): InstallerSession | null;
  end(id: string | undefined): void;
  /** Constant-time comparison of a presented token with the session's own. */
  csrfMatches(session: InstallerSession, presented: string | undefined): boolean;
}

const token = () => randomBytes(32).toString('base64url');

export function createSessionStore(options: {
  idleMs: number;
  maxSessions: number;
  now: () => number;
}): SessionStore {
  const sessions = new Map<string, InstallerSession>();
  return {
    create() {
      const session = { id: token(), csrfToken: token(), lastSeenAt: options.now() };
      sessions.set(session.id, session);
      while (sessions.size > options.maxSessions) sessions.delete(sessions.keys().next().value as string);
      return session;
    },
    get(id) {
      if (id === undefined) return null;
      const session = sessions.get(id);
      if (!session) return null;
      const now = options.now();
      if (now - session.lastSeenAt > options.idleMs) {
        sessions.delete(id);
        return null;
      }
      session.lastSeenAt = now;
      // Re-inserted so the map stays in last-use order and the table drops the least recently used.
      sessions.delete(id);
      sessions.set(id, session);
      return session;
    },
    end(id) {
      if (id !== undefined) sessions.delete(id);
    },
    csrfMatches(session, presented) {
      if (presented === undefined) return false;
      const a = Buffer.from(session.csrfToken);
      const b = Buffer.from(presented);
      return a.length === b.length && timingSafeEqual(a, b);
    },
  };
}
