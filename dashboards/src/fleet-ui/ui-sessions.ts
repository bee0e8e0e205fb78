import { randomBytes } from 'node:crypto';

export interface UiSession {
  id: string;
  user: string;
  /** Sent back in X-CSRF-Token on every state-changing request; bound to this session alone. */
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
}

export interface UiSessionOptions {
  /** A session unused this long is gone (ms). */
  idleMs: number;
  /** And any session this old, used or not (ms): a stolen cookie does not live forever. */
  maxAgeMs: number;
  /** Sessions kept at most; the least recently used goes first, so logins cannot grow memory. */
  maxSessions: number;
  now: () => number;
  /** A session ended (logout, expiry, eviction): its live-update streams are closed. */
  onEnd?: (id: string) => void;
}

export interface UiSessions {
  create(user: string): UiSession;
  /** The live session of this id, touched; null when unknown or expired. */
  get(id: string | undefined): UiSession | null;
  /** Whether the session is live, without counting as use (a live-update stream is not a user). */
  isLive(id: string): boolean;
  end(id: string): void;
  size(): number;
}

/** Server-side sessions in memory: a fleet-server restart logs everyone out, which is the safe side. */
export function createUiSessions(options: UiSessionOptions): UiSessions {
  // Map order is use order: touched sessions are re-inserted at the end, the first is the least used.
  const sessions = new Map<string, UiSession>();
  const expired = (s: UiSession, now: number) =>
    now - s.lastSeenAt > options.idleMs || now - s.createdAt > options.maxAgeMs;
  const end = (id: string) => {
    if (sessions.delete(id)) options.onEnd?.(id);
  };
  const live = (id: string): UiSession | null => {
    const s = sessions.get(id);
    if (!s) return null;
    if (expired(s, options.now())) {
      end(id);
      return null;
    }
    return s;
  };
  return {
    create(user) {
      const now = options.now();
      const session: UiSession = {
        id: randomBytes(32).toString('base64url'),
        user,
        csrfToken: randomBytes(32).toString('base64url'),
        createdAt: now,
        lastSeenAt: now,
      };
      sessions.set(session.id, session);
      while (sessions.size > options.maxSessions) end(sessions.keys().next().value as string);
      return session;
    },
    get(id) {
      if (id === undefined) return null;
      const s = live(id);
      if (!s) return null;
      s.lastSeenAt = options.now();
      sessions.delete(id);
      sessions.set(id, s);
      return s;
    },
    isLive: (id) => live(id) !== null,
    end,
    size: () => sessions.size,
  };
}
