import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { DriverClock, DriverLogger, FirmwareImage } from '../driver-api.ts';
import { parseRangeHeader } from './http-range.ts';

/**
 * The box's firmware image server for face readers (docs/protocols/face-reader.md §8.2): a small
 * node:http listener the face-reader driver owns. It serves nothing but the images of transfers in
 * progress, each at `/firmware/<readerId>/<transferId>` to the holder of that transfer's bearer token
 * (32 random bytes, sent to that reader only, on its ACL-guarded `firmware` topic; kept here as its
 * SM3 digest). Bytes come from `FirmwareImage.read` (the verified package): no part of a URL is ever a
 * path on disk, and there is nothing to list.
 *
 * Cheapest refusal first (DESIGN invariant 8): the path, then the token, are checked before any byte
 * of an image is read; connections are capped (`maxConnections`: Node closes the ones over the cap at
 * accept, and per peer address `maxConnectionsPerPeer`), a socket idle for `idleTimeoutMs` is destroyed, and one that has not finished its request
 * headers within `headersTimeoutMs` is dropped (slowloris).
 */
export interface FirmwareImageServerOptions {
  host: string;
  port: number;
  /** Origin the readers reach this server at (when listening on 0.0.0.0, the box's site address). */
  advertisedUrl?: string | undefined;
  maxConnections: number;
  /**
   * Connections one peer address may hold at once: a reader fetches one window at a time, so a peer
   * holding more is not a reader, and must not take the slots of the others.
   */
  maxConnectionsPerPeer: number;
  idleTimeoutMs: number;
  headersTimeoutMs: number;
  clock: DriverClock;
  logger: DriverLogger;
}

export type ImageRefusal = 'not-found' | 'method' | 'no-token' | 'bad-token' | 'wrong-reader' | 'expired';

export interface ServedTransfer {
  readerId: string;
  transferId: string;
  image: FirmwareImage;
  expiresAt: number;
}

/** What the server saw of one transfer: each response's range and the bytes handed to its socket. */
export interface TransferServing {
  responses: Array<{ start: number; end: number; status: 200 | 206; bytesWritten: number }>;
  bytesServed: number;
}

export interface FirmwareImageServer {
  /** The base the readers fetch from, e.g. http://192.0.2.1:8099 (the bound port when port was 0). */
  readonly origin: string;
  urlOf(readerId: string, transferId: string): string;
  /** Opens a transfer to its reader and returns the bearer token (the only copy; never log it). */
  grant(transfer: ServedTransfer): string;
  /** Closes a transfer: its token is refused from now on (a response under way is cut). */
  revoke(transferId: string): void;
  serving(transferId: string): TransferServing | undefined;
  /** Refusals by reason, since start: for tests and the metrics. */
  refusals(): Readonly<Record<ImageRefusal, number>>;
  /** Connections closed at accept because their peer already held maxConnectionsPerPeer. */
  peerRefusals(): number;
  /** Called for every piece of an image handed to a socket (progress on the box side). */
  onServed(listener: (transferId: string, bytesServed: number) => void): void;
  close(): Promise<void>;
}

interface Entry extends ServedTransfer {
  tokenDigest: Buffer;
  serving: TransferServing;
  sockets: Set<Socket>;
}

const PATH = /^\/firmware\/([A-Za-z0-9_-]{1,64})\/([A-Za-z0-9._-]{1,64})$/;
const BEARER = /^Bearer ([A-Za-z0-9_-]{43})$/;
/** Bytes per read of the image and per socket write: small enough to keep memory flat per connection. */
const PIECE = 64 * 1024;
const KEPT_SERVINGS = 64;

const digestOf = (token: string) => createHash('sm3').update(token).digest();

export async function startFirmwareImageServer(
  options: FirmwareImageServerOptions,
): Promise<FirmwareImageServer> {
  const transfers = new Map<string, Entry>();
  /** What was served, kept past the transfer's end (the last few only) for the driver's report and tests. */
  const servings = new Map<string, TransferServing>();
  const refused: Record<ImageRefusal, number> = {
    'not-found': 0,
    method: 0,
    'no-token': 0,
    'bad-token': 0,
    'wrong-reader': 0,
    expired: 0,
  };
  const servedListeners: Array<(transferId: string, bytes: number) => void> = [];
  const sockets = new Set<Socket>();
  const perPeer = new Map<string, number>();
  let peerRefusals = 0;

  const server = createServer(
    {
      headersTimeout: options.headersTimeoutMs,
      requestTimeout: options.headersTimeoutMs + options.idleTimeoutMs,
      // Node checks the two timeouts above on this interval (default 30 s): keep it below them.
      connectionsCheckingInterval: Math.max(50, Math.floor(options.headersTimeoutMs / 4)),
      keepAliveTimeout: options.idleTimeoutMs,
    },
    (req, res) => void answer(req, res),
  );
  server.maxConnections = options.maxConnections;
  server.setTimeout(options.idleTimeoutMs, (socket) => socket.destroy());
  server.on('connection', (socket) => {
    const peer = socket.remoteAddress ?? '?';
    const held = perPeer.get(peer) ?? 0;
    if (held >= options.maxConnectionsPerPeer) {
      peerRefusals++;
      socket.destroy();
      return;
    }
    perPeer.set(peer, held + 1);
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      const left = (perPeer.get(peer) ?? 1) - 1;
      if (left > 0) perPeer.set(peer, left);
      else perPeer.delete(peer);
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  function refuse(res: ServerResponse, status: number, reason: ImageRefusal): void {
    refused[reason]++;
    // The same body for every token problem: a wrong guess learns nothing about which part was wrong.
    res.writeHead(status, { 'content-type': 'text/plain', 'cache-control': 'no-store', connection: 'close' });
    res.end(status === 403 ? 'forbidden\n' : status === 405 ? 'method not allowed\n' : 'not found\n');
  }

  function authorised(req: IncomingMessage, res: ServerResponse): Entry | null {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      refuse(res, 405, 'method');
      return null;
    }
    const path = PATH.exec(req.url ?? '');
    const entry = path ? transfers.get(path[2] as string) : undefined;
    if (!path) {
      refuse(res, 404, 'not-found');
      return null;
    }
    const bearer = BEARER.exec(req.headers.authorization ?? '');
    if (!bearer) {
      refuse(res, 403, 'no-token');
      return null;
    }
    const digest = digestOf(bearer[1] as string);
    if (!entry || !timingSafeEqual(digest, entry.tokenDigest)) {
      refuse(res, 403, 'bad-token');
      return null;
    }
    if (entry.readerId !== path[1]) {
      refuse(res, 403, 'wrong-reader');
      return null;
    }
    if (options.clock.now() > entry.expiresAt) {
      refuse(res, 403, 'expired');
      return null;
    }
    return entry;
  }

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const entry = authorised(req, res);
    if (!entry) return;
    const { size, sm3 } = entry.image.manifest;
    const range = parseRangeHeader(req.headers.range, size);
    const common = {
      'accept-ranges': 'bytes',
      'cache-control': 'no-store',
      'content-type': 'application/octet-stream',
      etag: `"${sm3}"`,
    };
    if (range.kind === 'unsatisfiable') {
      res.writeHead(416, { ...common, 'content-range': `bytes */${size}`, 'content-length': 0 });
      res.end();
      return;
    }
    const start = range.kind === 'range' ? range.start : 0;
    const end = range.kind === 'range' ? range.end : size - 1;
    const status = range.kind === 'range' ? 206 : 200;
    res.writeHead(status, {
      ...common,
      'content-length': end - start + 1,
      ...(status === 206 ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const socket = req.socket;
    entry.sockets.add(socket);
    const record = { start, end, status, bytesWritten: 0 } as TransferServing['responses'][number];
    entry.serving.responses.push(record);
    try {
      for (let at = start; at <= end && !res.destroyed; ) {
        const piece = await entry.image.read(at, Math.min(PIECE, end - at + 1));
        if (res.destroyed || !transfers.has(entry.transferId)) break;
        const flushed = res.write(piece);
        at += piece.length;
        record.bytesWritten += piece.length;
        entry.serving.bytesServed += piece.length;
        for (const listener of servedListeners) listener(entry.transferId, entry.serving.bytesServed);
        if (!flushed) await drained(res);
      }
      if (!res.destroyed && transfers.has(entry.transferId)) res.end();
      else res.destroy();
    } catch (err) {
      options.logger.warn(
        { transferId: entry.transferId, err: (err as Error).message },
        'firmware image read failed',
      );
      res.destroy();
    } finally {
      entry.sockets.delete(socket);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = (options.advertisedUrl ?? `http://${host}:${address.port}`).replace(/\/$/, '');

  return {
    origin,
    urlOf: (readerId, transferId) => `${origin}/firmware/${readerId}/${transferId}`,
    grant(transfer) {
      const token = randomBytes(32).toString('base64url');
      const serving: TransferServing = { responses: [], bytesServed: 0 };
      servings.set(transfer.transferId, serving);
      for (const old of servings.keys()) {
        if (servings.size <= KEPT_SERVINGS) break;
        servings.delete(old);
      }
      transfers.set(transfer.transferId, {
        ...transfer,
        tokenDigest: digestOf(token),
        serving,
        sockets: new Set(),
      });
      return token;
    },
    revoke(transferId) {
      const entry = transfers.get(transferId);
      transfers.delete(transferId);
      for (const socket of entry?.sockets ?? []) socket.destroy();
    },
    serving: (transferId) => servings.get(transferId),
    refusals: () => ({ ...refused }),
    peerRefusals: () => peerRefusals,
    onServed(listener) {
      servedListeners.push(listener);
    },
    async close() {
      transfers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}
