import { randomUUID } from 'node:crypto';
import type { QueuedEvent } from './onvif-responses.ts';

/**
 * The camera's pull points (ONVIF Core §9.1 PullPoint): each has an address, a termination time and a
 * queue of events; a pending PullMessages waits on it until an event comes, its timeout passes or it
 * ends. Kept in memory, as devices do: a reboot forgets them all.
 */
export interface PullPoint {
  id: string;
  address: string;
  terminationAt: number;
  queue: QueuedEvent[];
  waiter: (() => void) | null;
}

const MAX_QUEUE = 100;

export class PullPoints {
  private readonly points = new Map<string, PullPoint>();

  get size(): number {
    return this.points.size;
  }

  create(addressBase: string, terminationAt: number): PullPoint {
    const id = randomUUID();
    const point: PullPoint = { id, address: `${addressBase}/${id}`, terminationAt, queue: [], waiter: null };
    this.points.set(id, point);
    return point;
  }

  /** The live pull point of this id; one past its termination time is removed first. */
  live(id: string, now: number): PullPoint | undefined {
    const point = this.points.get(id);
    if (point && point.terminationAt <= now) {
      this.points.delete(id);
      return undefined;
    }
    return point;
  }

  has(id: string): boolean {
    return this.points.has(id);
  }

  remove(id: string): void {
    const point = this.points.get(id);
    this.points.delete(id);
    point?.waiter?.();
  }

  /** Queues an event on every live pull point and wakes the pulls waiting there. */
  publish(event: QueuedEvent, now: number): void {
    for (const point of this.points.values()) {
      if (point.terminationAt <= now) continue;
      point.queue.push(event);
      if (point.queue.length > MAX_QUEUE) point.queue.shift();
      point.waiter?.();
    }
  }

  /** Resolves when an event is queued on `point`, it ends, or `ms` pass. */
  waitForEvents(point: PullPoint, ms: number): Promise<void> {
    if (point.queue.length > 0 || ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        point.waiter = null;
        resolve();
      }
      point.waiter = done;
    });
  }

  /** Wakes every pending pull (the network is going away). */
  wakeAll(): void {
    for (const point of this.points.values()) point.waiter?.();
  }

  /** Forgets every pull point (a reboot), waking their pending pulls. */
  clear(): void {
    this.wakeAll();
    this.points.clear();
  }
}
