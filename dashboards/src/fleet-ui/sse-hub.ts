import type http from 'node:http';
import type { BoxState, FleetAlert } from '../fleet-server/fleet-store.ts';

export interface SseHubOptions {
  /** Streams open at once over all sessions; beyond it a new stream is refused (503). */
  maxClients: number;
  /** Streams one session may hold (tabs); beyond it its oldest is closed. */
  maxPerSession: number;
  /** Box changes are coalesced per box and sent at most this often (ms). */
  flushMs: number;
  /** A comment line this often keeps proxies from cutting an idle stream, and checks the session (ms). */
  keepAliveMs: number;
  /** Unsent bytes a slow reader may hold before its stream is dropped (it reconnects and refetches). */
  maxBufferedBytes: number;
  isLive(sessionId: string): boolean;
}

interface Client {
  res: http.ServerResponse;
  sessionId: string;
}

export interface SseHub {
  /** Takes over the response as an event stream; false when the hub is full (nothing was written). */
  add(res: http.ServerResponse, sessionId: string): boolean;
  boxChanged(box: BoxState): void;
  alert(event: 'raised' | 'resolved', alert: FleetAlert): void;
  closeSession(sessionId: string): void;
  clients(): number;
  close(): void;
}

/**
 * The dashboard's live updates (Server-Sent Events). Alerts go out at once; box changes (every
 * heartbeat changes a box) are coalesced per box and flushed every `flushMs`, so 2,000 boxes beating
 * every 10 s cost each stream a few messages a second, not one write per heartbeat per stream. Bounded:
 * a cap on streams and per session, and a slow reader is dropped rather than buffered without end.
 */
export function createSseHub(options: SseHubOptions): SseHub {
  const clients = new Set<Client>();
  const pendingBoxes = new Map<string, BoxState>();

  const drop = (client: Client) => {
    if (!clients.delete(client)) return;
    client.res.end();
  };
  const send = (client: Client, chunk: string) => {
    if (client.res.writableLength > options.maxBufferedBytes) return drop(client);
    client.res.write(chunk);
  };
  const broadcast = (chunk: string) => {
    for (const c of clients) send(c, chunk);
  };

  const flushTimer = setInterval(() => {
    if (pendingBoxes.size === 0) return;
    const boxes = [...pendingBoxes.values()];
    pendingBoxes.clear();
    if (clients.size > 0) broadcast(frame('boxes', { boxes }));
  }, options.flushMs);
  flushTimer.unref();
  const keepAlive = setInterval(() => {
    for (const c of clients) {
      if (!options.isLive(c.sessionId)) drop(c);
      else send(c, ': keep-alive\n\n');
    }
  }, options.keepAliveMs);
  keepAlive.unref();

  return {
    add(res, sessionId) {
      if (clients.size >= options.maxClients) return false;
      const mine = [...clients].filter((c) => c.sessionId === sessionId);
      for (const old of mine.slice(0, Math.max(0, mine.length - options.maxPerSession + 1))) drop(old);
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        // nginx and its kind buffer responses unless told not to; an event must not wait for 4 KiB.
        'x-accel-buffering': 'no',
      });
      const client = { res, sessionId };
      clients.add(client);
      res.on('close', () => clients.delete(client));
      // A first event at once: the page knows the stream is open (and refetches what it missed).
      res.write(`retry: 3000\n${frame('hello', { at: Date.now() })}`);
      return true;
    },
    boxChanged(box) {
      if (clients.size > 0) pendingBoxes.set(box.boxId, box);
    },
    alert(event, alert) {
      broadcast(frame('alert', { event, alert }));
    },
    closeSession(sessionId) {
      for (const c of clients) if (c.sessionId === sessionId) drop(c);
    },
    clients: () => clients.size,
    close() {
      clearInterval(flushTimer);
      clearInterval(keepAlive);
      for (const c of clients) drop(c);
    },
  };
}

/** One SSE message; JSON has no raw newline, so `data:` is one line. */
const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
