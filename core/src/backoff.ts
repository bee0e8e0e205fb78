/**
 * Reconnect delays: exponential backoff with full jitter and a cap (STYLE.md; AWS Architecture Blog,
 * "Exponential Backoff And Jitter"). Full jitter spreads a canteen full of boxes that lost power together,
 * so their terminals and readers are not all hammered in the same millisecond. It lives in @sceneway/core
 * because every driver and the agent's uploader use it, and the agent may not reach into device-drivers.
 */
export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
}

/** Delay before reconnect attempt `attempt` (1-based): uniform in [0, min(cap, initial × 2^(attempt-1))]. */
export function fullJitterDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** exponent);
  return Math.floor(random() * (ceiling + 1));
}

/** A timer that an AbortSignal cancels; resolves false when aborted, so loops can exit without a throw. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
