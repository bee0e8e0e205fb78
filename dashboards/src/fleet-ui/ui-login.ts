import {
  createCheckBudget,
  createLoginThrottle,
  createPasswordChecker,
  DEFAULT_THROTTLE,
  decoyPasswordHash,
} from '@sceneway/gateway-agent';
import type { UiUser } from './ui-users.ts';

export type UiLoginOutcome =
  | { ok: true; user: string }
  /** Wrong password or unknown user: one answer for both (the operator's log says which). */
  | { ok: false; reason: 'refused'; detail: 'unknown_user' | 'wrong_password' | 'oversized' }
  /** Locked out after failures, or the scrypt budget of strangers is spent: try later. */
  | { ok: false; reason: 'throttled'; detail: 'locked_out' | 'busy' };

export interface UiLogin {
  check(address: string, username: string, password: string): Promise<UiLoginOutcome>;
  close(): Promise<void>;
}

const MAX_USERNAME = 64;
const MAX_PASSWORD = 1024;

/**
 * The dashboard login with the broker's defences (D32, issue #11): scrypt on one nice-19 worker thread,
 * never libuv's pool; a short queue, beyond which the answer is "busy" at once; per-address and
 * per-username failure backoff; and a rate budget for paths that never logged in, so an unauthenticated
 * peer cannot queue unbounded scrypt work. An unknown username is checked against a hash of the same
 * cost, so both refusals take one scrypt.
 */
export function createUiLogin(
  users: ReadonlyArray<UiUser>,
  options: { now?: () => number; strangerChecks?: { perSecond: number; burst: number } } = {},
): UiLogin {
  const now = options.now ?? Date.now;
  const byName = new Map(users.map((u) => [u.name, u]));
  const decoy = users[0]?.passwordHash ?? decoyPasswordHash();
  const checker = createPasswordChecker({ maxInFlight: 1, maxQueued: 8 });
  const throttle = createLoginThrottle({ ...DEFAULT_THROTTLE, now });
  const strangers = createCheckBudget({ ...(options.strangerChecks ?? { perSecond: 2, burst: 4 }), now });
  return {
    async check(address, username, password) {
      if (username.length > MAX_USERNAME || password.length > MAX_PASSWORD)
        return { ok: false, reason: 'refused', detail: 'oversized' };
      if (throttle.lockedBy(address, username) !== null)
        return { ok: false, reason: 'throttled', detail: 'locked_out' };
      const known = throttle.isKnown(address, username);
      if (!known && !strangers.take()) return { ok: false, reason: 'throttled', detail: 'busy' };
      const user = byName.get(username);
      const checking = checker.check(Buffer.from(password, 'utf8'), user?.passwordHash ?? decoy, known);
      if (checking === 'busy') return { ok: false, reason: 'throttled', detail: 'busy' };
      const matched = await checking;
      if (user === undefined || !matched) {
        throttle.failed(address, username);
        return {
          ok: false,
          reason: 'refused',
          detail: user === undefined ? 'unknown_user' : 'wrong_password',
        };
      }
      throttle.succeeded(address, username);
      return { ok: true, user: user.name };
    },
    close: () => checker.close(),
  };
}
