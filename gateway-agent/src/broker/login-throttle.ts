/**
 * Exponential failure backoff for MQTT logins, per source address and per username, so a guessing
 * storm is refused before it costs a scrypt (DESIGN invariant 8; bank standard 004 §5.3.2 asks that
 * repeated failed logins be limited). After `freeFailures` failures a key is locked out for
 * `baseMs · 2^(failures − freeFailures)`, capped at `maxMs`; a key that stays quiet for `forgetAfterMs`
 * is forgotten.
 *
 * A per-username lockout would let anyone lock a real terminal out by failing its username from
 * elsewhere. So a (username, address) pair that has logged in before keeps its own path: it passes a
 * username or address lockout and is limited only by its own failures. A stranger cannot use that
 * path without both the terminal's address and its password, and guessing from there locks the pair.
 *
 * Memory is bounded: each table keeps at most `maxEntries` keys (the oldest quiet one is dropped), so
 * rotating addresses or usernames cannot grow it.
 */
export type LockoutScope = 'address' | 'username' | 'pair';

export interface LoginThrottleOptions {
  freeFailures: number;
  baseMs: number;
  maxMs: number;
  forgetAfterMs: number;
  maxEntries: number;
  now: () => number;
  /** A key was newly locked out (a metric and an alert; never the username itself). */
  onLockout?: (scope: LockoutScope) => void;
}

export const DEFAULT_THROTTLE = {
  freeFailures: 3,
  baseMs: 1_000,
  maxMs: 5 * 60_000,
  forgetAfterMs: 15 * 60_000,
  maxEntries: 4096,
} as const;

interface Entry {
  failures: number;
  lockedUntil: number;
  lastFailureAt: number;
}

export interface LoginThrottle {
  /** The scope that refuses this attempt now, or null when it may be checked. */
  lockedBy(address: string, username: string): LockoutScope | null;
  failed(address: string, username: string): void;
  /** Whether this (address, username) pair has logged in before: the terminal's own path. */
  isKnown(address: string, username: string): boolean;
  /** Whether any login succeeded from this address before. */
  isKnownAddress(address: string): boolean;
  succeeded(address: string, username: string): void;
  /** Keys locked out right now, by scope: the lockout gauge. */
  lockedOut(): Record<LockoutScope, number>;
}

export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const tables: Record<LockoutScope, Map<string, Entry>> = {
    address: new Map(),
    username: new Map(),
    pair: new Map(),
  };
  /** Pairs that logged in before: `${username}\u0000${address}`; bounded like the tables. */
  const known = new Set<string>();
  const pairKey = (address: string, username: string) => `${username}\u0000${address}`;
  const knownAddresses = new Set<string>();

  const live = (scope: LockoutScope, key: string): Entry | undefined => {
    const entry = tables[scope].get(key);
    if (entry && options.now() - entry.lastFailureAt > options.forgetAfterMs) {
      tables[scope].delete(key);
      return undefined;
    }
    return entry;
  };
  const isLocked = (scope: LockoutScope, key: string) => (live(scope, key)?.lockedUntil ?? 0) > options.now();

  const fail = (scope: LockoutScope, key: string) => {
    const table = tables[scope];
    const now = options.now();
    const entry = live(scope, key) ?? { failures: 0, lockedUntil: 0, lastFailureAt: now };
    entry.failures++;
    entry.lastFailureAt = now;
    const over = entry.failures - options.freeFailures;
    if (over >= 0) {
      const wasLocked = entry.lockedUntil > now;
      entry.lockedUntil = now + Math.min(options.maxMs, options.baseMs * 2 ** Math.min(over, 30));
      if (!wasLocked) options.onLockout?.(scope);
    }
    // Re-inserted so the map's order is oldest failure first, and the oldest goes when it is full.
    table.delete(key);
    table.set(key, entry);
    if (table.size > options.maxEntries) table.delete(table.keys().next().value as string);
  };

  return {
    lockedBy(address, username) {
      const pair = pairKey(address, username);
      if (isLocked('pair', pair)) return 'pair';
      if (known.has(pair)) return null;
      if (isLocked('address', address)) return 'address';
      if (isLocked('username', username)) return 'username';
      return null;
    },
    isKnown: (address, username) => known.has(pairKey(address, username)),
    isKnownAddress: (address) => knownAddresses.has(address),
    failed(address, username) {
      const pair = pairKey(address, username);
      fail('pair', pair);
      // The terminal's own path counts only against itself, never against its address or username.
      if (known.has(pair)) return;
      fail('address', address);
      fail('username', username);
    },
    succeeded(address, username) {
      const pair = pairKey(address, username);
      tables.pair.delete(pair);
      known.delete(pair);
      known.add(pair);
      if (known.size > options.maxEntries) known.delete(known.values().next().value as string);
      knownAddresses.delete(address);
      knownAddresses.add(address);
      if (knownAddresses.size > options.maxEntries) {
        knownAddresses.delete(knownAddresses.values().next().value as string);
      }
    },
    lockedOut() {
      const now = options.now();
      const count = (scope: LockoutScope) => {
        let n = 0;
        for (const entry of tables[scope].values()) if (entry.lockedUntil > now) n++;
        return n;
      };
      return { address: count('address'), username: count('username'), pair: count('pair') };
    },
  };
}

/**
 * The scrypt budget of strangers: logins on a path that never succeeded may start at most `perSecond`
 * checks a second (burst `burst`), so a storm from rotating addresses and usernames, which no backoff
 * can catch, costs the box a bounded share of one core; beyond it CONNACK 3. Known paths do not spend
 * it (and go first in the queue), so the site's own terminals still log in during a storm.
 */
export function createCheckBudget(options: { perSecond: number; burst: number; now: () => number }) {
  let tokens = options.burst;
  let at = options.now();
  return {
    take(): boolean {
      const now = options.now();
      tokens = Math.min(options.burst, tokens + ((now - at) / 1000) * options.perSecond);
      at = now;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}
