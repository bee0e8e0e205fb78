/**
 * Duplicate suppression by frame sequence number (docs/protocols/canteen-pos.md §5).
 *
 * A terminal resends a request with the same seq when the answer did not reach it. The box must answer
 * it again, byte for byte, and must never decide it a second time: a sale is charged once. So the reply
 * (or the decision still in flight) is kept per terminal, keyed by seq, command and body. Matching the
 * body too means a terminal that rebooted and reuses a seq for a *different* request is not answered
 * with a stale reply (Q/RZYH TG 0003-2024 §5.1.4 h: the box decides on what it actually received).
 *
 * Terminals are stop-and-wait (one request outstanding), so a short ring is plenty; 8 covers a terminal
 * that gave up on a request, started the next, and then had the old one replayed by a flaky adapter.
 */
export interface CachedRequest {
  seq: number;
  command: number;
  body: Buffer;
  /** The frame answering it; resolves once the decision is made (and, for sales, durable). */
  reply: Promise<Buffer>;
}

export class ReplyCache {
  private readonly entries: CachedRequest[] = [];
  constructor(private readonly capacity = 8) {}

  find(seq: number, command: number, body: Uint8Array): CachedRequest | undefined {
    return this.entries.find((e) => e.seq === seq && e.command === command && e.body.equals(body));
  }

  remember(entry: CachedRequest): void {
    // A new request with a reused seq replaces the old entry: the old one can no longer be retransmitted.
    const same = this.entries.findIndex((e) => e.seq === entry.seq);
    if (same !== -1) this.entries.splice(same, 1);
    this.entries.push(entry);
    if (this.entries.length > this.capacity) this.entries.shift();
  }

  get size(): number {
    return this.entries.length;
  }

  clear(): void {
    this.entries.length = 0;
  }
}
