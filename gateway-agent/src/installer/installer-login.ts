import { createCheckBudget, createLoginThrottle, DEFAULT_THROTTLE } from '../broker/login-throttle.ts';
import { createPasswordChecker } from '../broker/password-checker.ts';

/**
 * The installer's password check, built from the broker's defences (D32, D39): scrypt runs on its own
 * nice-19 worker thread with one check at a time and a short queue (beyond it: `busy` at once, nothing
 * computed), failures back off exponentially per source address, and addresses that never logged in share
 * a small budget of checks a second, so a stranger cannot queue unbounded scrypt work on the box that
 * answers the tills. The password itself is never logged or kept; only the verdict leaves this file.
 */
export type LoginVerdict = 'ok' | 'refused' | 'throttled' | 'busy';

export interface InstallerLogin {
  check(address: string, password: string): Promise<LoginVerdict>;
  close(): Promise<void>;
}

/** One account: the throttle's username is this constant, so every key is the address or the pair. */
const ACCOUNT = 'installer';

export function createInstallerLogin(options: { passwordHash: string; now: () => number }): InstallerLogin {
  const throttle = createLoginThrottle({ ...DEFAULT_THROTTLE, now: options.now });
  const strangers = createCheckBudget({ perSecond: 2, burst: 4, now: options.now });
  const checker = createPasswordChecker({ maxInFlight: 1, maxQueued: 4 });
  return {
    async check(address, password) {
      if (throttle.lockedBy(address, ACCOUNT) !== null) return 'throttled';
      const known = throttle.isKnown(address, ACCOUNT);
      if (!known && !strangers.take()) return 'busy';
      const pending = checker.check(Buffer.from(password, 'utf8'), options.passwordHash, known);
      if (pending === 'busy') return 'busy';
      const ok = await pending;
      if (ok) throttle.succeeded(address, ACCOUNT);
      else throttle.failed(address, ACCOUNT);
      return ok ? 'ok' : 'refused';
    },
    close: () => checker.close(),
  };
}
