import { timingSafeEqual } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { parsePasswordHash } from './password-hash.ts';

/**
 * Terminal password checks, bounded (issue #11: a flood of bad MQTT logins froze every till for
 * minutes). scrypt runs on a worker thread of its own, never on libuv's four-thread pool, which the
 * ledger's fsync and every file operation share; at most `maxInFlight` checks run at once (one worker
 * per slot, each doing one check at a time) and at most `maxQueued` wait. Beyond that the caller is told
 * `busy` at once and answers CONNACK 3: a storm costs the attacker, not the tills (DESIGN invariant 8).
 *
 * The worker thread runs at nice 19 (D32): its scrypt is the one CPU-heavy thing a stranger can ask the box
 * for, so on two shared cores it yields to the agent's main thread, which serves the tills.
 *
 * The worker is plain JavaScript evaluated from this string, so it runs the same under the bundle and
 * under vitest, and it is started only by the first check: a box with no MQTT terminal never runs one.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { scryptSync } = require('node:crypto');
// The lowest CPU priority for this thread only (Linux nice is per thread; elsewhere it may apply to
// the whole process, so it is done on Linux alone): on a busy box a till's sale comes before a login
// check, which a storm of strangers can keep asking for.
if (process.platform === 'linux') {
  try { require('node:os').setPriority(19); } catch {}
}
parentPort.on('message', ({ id, password, salt, keyLength, N, r, p }) => {
  let key = null;
  try {
    key = scryptSync(Buffer.from(password), Buffer.from(salt), keyLength, { N, r, p, maxmem: 2 * 128 * N * r });
  } catch {}
  parentPort.postMessage({ id, key });
});
`;

export interface PasswordCheckerStats {
  /** Checks running now on the workers. */
  inFlight: number;
  /** The most that ever ran at once: the seam a storm test reads. */
  peakInFlight: number;
  queued: number;
  peakQueued: number;
  /** scrypt computations started since the checker was made. */
  started: number;
  /** Checks refused because the queue was full. */
  refusedBusy: number;
}

export interface PasswordChecker {
  /** `busy` when the queue is full: nothing was computed, answer CONNACK 3. */
  /** `first`: a login on a path that succeeded before goes ahead of strangers in the queue. */
  check(password: Buffer, hash: string, first?: boolean): Promise<boolean> | 'busy';
  stats(): PasswordCheckerStats;
  close(): Promise<void>;
}

interface Job {
  password: Buffer;
  hash: string;
  resolve: (ok: boolean) => void;
}

interface Slot {
  worker: Worker;
  busy: boolean;
}

export function createPasswordChecker(options: { maxInFlight: number; maxQueued: number }): PasswordChecker {
  const slots: Slot[] = [];
  const queue: Job[] = [];
  const pending = new Map<number, (key: Buffer | null) => void>();
  const stats: PasswordCheckerStats = {
    inFlight: 0,
    peakInFlight: 0,
    queued: 0,
    peakQueued: 0,
    started: 0,
    refusedBusy: 0,
  };
  let nextId = 0;
  let closed = false;

  const freeSlot = (): Slot | undefined => {
    const idle = slots.find((s) => !s.busy);
    if (idle || slots.length >= options.maxInFlight) return idle;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    // A login check must never keep a stopping agent alive.
    worker.unref();
    worker.on('message', ({ id, key }: { id: number; key: Uint8Array | null }) => {
      const settle = pending.get(id);
      pending.delete(id);
      settle?.(key === null ? null : Buffer.from(key));
    });
    worker.on('error', () => {
      // A crashed worker fails its checks closed; the slot is replaced at the next check.
      for (const settle of pending.values()) settle(null);
      pending.clear();
      const index = slots.findIndex((s) => s.worker === worker);
      if (index >= 0) slots.splice(index, 1);
    });
    const slot = { worker, busy: false };
    slots.push(slot);
    return slot;
  };

  const pump = () => {
    while (!closed && queue.length > 0) {
      const slot = freeSlot();
      if (slot === undefined) return;
      const job = queue.shift()!;
      stats.queued = queue.length;
      run(slot, job);
    }
  };

  const run = (slot: Slot, job: Job) => {
    const parsed = parsePasswordHash(job.hash);
    if (parsed === null) {
      job.resolve(false);
      return;
    }
    slot.busy = true;
    stats.inFlight++;
    stats.started++;
    stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
    const id = nextId++;
    pending.set(id, (key) => {
      slot.busy = false;
      stats.inFlight--;
      job.resolve(key !== null && key.length === parsed.key.length && timingSafeEqual(key, parsed.key));
      pump();
    });
    const { N, r, p, salt, key } = parsed;
    slot.worker.postMessage({ id, password: job.password, salt, keyLength: key.length, N, r, p });
  };

  return {
    check(password, hash, first = false) {
      if (closed) return Promise.resolve(false);
      const canRunNow = slots.some((s) => !s.busy) || slots.length < options.maxInFlight;
      if (!canRunNow && queue.length >= options.maxQueued) {
        stats.refusedBusy++;
        return 'busy';
      }
      return new Promise((resolve) => {
        if (first) queue.unshift({ password, hash, resolve });
        else queue.push({ password, hash, resolve });
        stats.queued = queue.length;
        stats.peakQueued = Math.max(stats.peakQueued, queue.length);
        pump();
      });
    },
    stats: () => ({ ...stats }),
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.resolve(false);
      for (const settle of pending.values()) settle(null);
      pending.clear();
      await Promise.all(slots.splice(0).map((s) => s.worker.terminate()));
    },
  };
}
