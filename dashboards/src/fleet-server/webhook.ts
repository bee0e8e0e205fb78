import { type BackoffPolicy, fullJitterDelay, sleep } from '@sceneway/core';
import type { FleetAlert } from './fleet-store.ts';

export interface WebhookOptions {
  url: string;
  /** Attempts per notification, the first included. */
  attempts: number;
  timeoutMs: number;
  backoff: BackoffPolicy;
  /** Notifications waiting beyond this are dropped (counted): a dead receiver must not grow memory. */
  maxQueued: number;
  onOutcome?: (event: 'raised' | 'resolved', outcome: 'delivered' | 'failed' | 'dropped') => void;
}

export interface AlertNotice {
  event: 'raised' | 'resolved';
  alert: FleetAlert;
}

/**
 * POSTs each alert change as JSON, in order, one at a time: bounded retries with full-jitter backoff, a
 * timeout per attempt, a bounded queue. 2xx is delivered; anything else is retried, then given up.
 */
export function createWebhook(options: WebhookOptions) {
  const abort = new AbortController();
  const queue: AlertNotice[] = [];
  let running: Promise<void> | null = null;

  const deliver = async (notice: AlertNotice) => {
    for (let attempt = 1; attempt <= options.attempts && !abort.signal.aborted; attempt++) {
      try {
        const res = await fetch(options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(notice),
          signal: AbortSignal.any([abort.signal, AbortSignal.timeout(options.timeoutMs)]),
        });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return options.onOutcome?.(notice.event, 'delivered');
      } catch {
        // a timeout or a refused connection: retried like a 5xx
      }
      if (
        attempt < options.attempts &&
        !(await sleep(fullJitterDelay(options.backoff, attempt), abort.signal))
      )
        break;
    }
    options.onOutcome?.(notice.event, 'failed');
  };

  const drain = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) await deliver(next);
    running = null;
  };

  return {
    notify(notice: AlertNotice): void {
      if (queue.length >= options.maxQueued) {
        queue.shift();
        options.onOutcome?.(notice.event, 'dropped');
      }
      queue.push(notice);
      running ??= drain();
    },
    /** Resolves once every queued notice was delivered or given up. */
    async idle(): Promise<void> {
      while (running) await running;
    },
    async close(): Promise<void> {
      abort.abort();
      await running;
    },
  };
}

export type Webhook = ReturnType<typeof createWebhook>;
