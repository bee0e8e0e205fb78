import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { verifyEnrolmentRequest } from '../batch/enrolment.ts';
import { signRefusal } from '../batch/refusal-v1.ts';
import { sm2PublicKeyOf } from '../crypto/sm2.ts';
import { SyncError } from '../sync-error.ts';
import { hasAdminToken, requireStatusAccess } from './admin-token.ts';
import { createBankLogger } from './bank-logger.ts';
import { blacklistFeedFor } from './blacklist-feed.ts';
import { enrolmentAnswerFor } from './enrol-answer.ts';
import { type IngestContext, ingestBatch } from './ingest.ts';
import { rotateBoxKey } from './key-rotation.ts';
import { BankMetrics } from './metrics.ts';
import { PgBankStore } from './pg-store.ts';
import { RateLimiter } from './rate-limit.ts';
import { ingestReconReport } from './recon-upload.ts';
import { BankRefusal } from './refusal.ts';
import { claimedRequestOf, enrolledBoxOf, readSignedHeaders } from './request-gate.ts';
import { SqliteBankStore } from './sqlite-store.ts';
import type { BankStore } from './store.ts';
import { loggableError } from './store-error.ts';

export interface BankServerOptions {
  /** SQLite file (default store) … */
  dbPath?: string;
  /** … or a PostgreSQL URL with an optional schema (tests isolate per run). */
  pgUrl?: string;
  pgSchema?: string;
  /** Or an already-open store (shared with a CLI or a test). */
  store?: BankStore;
  bankPrivateKeyHex: string;
  port?: number;
  host?: string;
  /** Mutual TLS (004 §5.3.1 f): all three given => HTTPS that requires a client certificate signed by `ca`. */
  tls?: { certPath: string; keyPath: string; caPath: string };
  /** Per-box token bucket, charged after the request signature verified (004 §5.4 b). */
  ratePerSec?: number;
  burst?: number;
  /**
   * Per-source-address token bucket, charged before anything else (DESIGN invariant 8). Sized for the
   * boxes behind one NAT address; default 50/s, burst 200.
   */
  sourceRatePerSec?: number;
  sourceBurst?: number;
  /** Most records read from one batch; default 100,000 (the box's sync.maxRecords ceiling). */
  maxRecords?: number;
  requestWindowMs?: number;
  maxBodyBytes?: number;
  /** Signed canteen blacklist updates served at GET /v1/blacklist; the endpoint is off when absent. */
  blacklistDir?: string;
  /** Where boxes' daily reconciliation reports go (POST /v1/recon); the endpoint is off when absent. */
  reconDir?: string;
  /** Bearer token for POST /v1/enrol; the endpoint is off when absent. */
  adminToken?: string;
  now?: () => Date;
  logLevel?: string;
  /** Where log lines go (default stdout); the log-scan test captures them here. */
  logDestination?: NodeJS.WritableStream;
}

export interface BankServer {
  url: string;
  store: BankStore;
  bankPublicKeyHex: string;
  metrics: BankMetrics;
  /** Rate buckets held in memory (bounded; a test holds rotating ids to that). */
  rateBuckets(): { source: number; box: number };
  close(): Promise<void>;
}

export async function openBankStore(opts: {
  dbPath?: string;
  pgUrl?: string;
  pgSchema?: string;
}): Promise<BankStore> {
  const store: BankStore = opts.pgUrl
    ? new PgBankStore({ url: opts.pgUrl, schema: opts.pgSchema })
    : new SqliteBankStore(opts.dbPath ?? 'sceneway-bank.db');
  await store.init();
  return store;
}

/** A declared body above the limit is refused before a byte of it is read (item: close after 413). */
function checkDeclaredSize(req: http.IncomingMessage, limit: number): void {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (!Number.isFinite(declared) || declared > limit)
    throw new BankRefusal(413, 'BANK_BODY_TOO_LARGE', `request body exceeds ${limit} bytes`);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    try {
      checkDeclaredSize(req, limit);
    } catch (e) {
      reject(e);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        // A chunked body that outgrows the limit: stop reading; the refusal closes the connection.
        req.off('data', onData);
        req.pause();
        chunks.length = 0;
        reject(new BankRefusal(413, 'BANK_BODY_TOO_LARGE', `request body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(c);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** Starts the reference bank ingest service; resolves once it listens. */
export async function startBankServer(opts: BankServerOptions): Promise<BankServer> {
  const ownsStore = !opts.store;
  const store = opts.store ?? (await openBankStore(opts));
  const logger = createBankLogger({ level: opts.logLevel, destination: opts.logDestination });
  const metrics = new BankMetrics();
  metrics.gaugeStoredRecordsFrom(async () => (await store.status()).reduce((n, b) => n + b.records, 0));
  const now = opts.now ?? (() => new Date());
  const maxBodyBytes = opts.maxBodyBytes ?? 8 * 1024 * 1024;
  const bankPublicKeyHex = sm2PublicKeyOf(opts.bankPrivateKeyHex);
  const sourceLimiter = new RateLimiter({
    ratePerSec: opts.sourceRatePerSec ?? 50,
    burst: opts.sourceBurst ?? 200,
    now: () => now().getTime(),
  });
  const ctx: IngestContext = {
    store,
    bankPrivateKeyHex: opts.bankPrivateKeyHex,
    limiter: new RateLimiter({
      ratePerSec: opts.ratePerSec ?? 5,
      burst: opts.burst ?? 20,
      now: () => now().getTime(),
    }),
    ...(opts.maxRecords === undefined ? {} : { maxRecords: opts.maxRecords }),
    metrics,
    requestWindowMs: opts.requestWindowMs ?? 5 * 60_000,
    now,
    // 5.1.1.1.5: structured, timestamped log lines; fields never hold keys or personal data.
    log: (level, msg, fields) => logger[level](fields, msg),
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    // DESIGN invariant 8: refuse by rate per source before looking at anything the peer sent.
    const retryAfter = sourceLimiter.take(req.socket.remoteAddress ?? 'unknown');
    if (retryAfter > 0) {
      throw new BankRefusal(
        429,
        'BANK_SOURCE_RATE_LIMITED',
        `too many requests from this address; retry in ${retryAfter} s`,
        { 'retry-after': String(retryAfter) },
      );
    }
    if (req.method === 'GET' && path === '/healthz') {
      // 004 §5.4 c): health check; a failing store makes the service unhealthy. One primary-key read
      // (never count(*): 243 ms on 2M rows, on every probe, for anyone).
      await store.getBox('-');
      sendJson(res, 200, { ok: true, store: store.dialect });
      return;
    }
    if (req.method === 'GET' && path === '/api/status') {
      requireStatusAccess(req, opts.adminToken);
      const boxes = await store.status();
      sendJson(res, 200, {
        bankPublicKeyHex,
        recordsStored: boxes.reduce((n, b) => n + b.records, 0),
        boxes,
        alerts: await store.alerts(),
      });
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      requireStatusAccess(req, opts.adminToken);
      const text = await metrics.render();
      res.writeHead(200, { 'content-type': metrics.contentType });
      res.end(text);
      return;
    }
    if (req.method === 'POST' && path === '/v1/batches') {
      // Cheapest refusal first: size, header formats and window, enrolment, all before the body is read.
      checkDeclaredSize(req, maxBodyBytes);
      const fields = readSignedHeaders(req.headers, now().getTime(), ctx.requestWindowMs);
      const box = await enrolledBoxOf(ctx, fields.boxId);
      const body = await readBody(req, maxBodyBytes);
      const result = await ingestBatch(ctx, { fields, box }, body);
      metrics.inc('sceneway_bank_batches_total', { outcome: result.outcome });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(result.ackBytes);
      return;
    }
    if (req.method === 'GET' && path === '/v1/blacklist') {
      sendJson(res, 200, await blacklistFeedFor(ctx, opts.blacklistDir, req.headers, req.url ?? path));
      return;
    }
    if (req.method === 'POST' && path === '/v1/recon') {
      const body = await readBody(req, 1024 * 1024);
      const received = await ingestReconReport(ctx, opts.reconDir, req.headers, body);
      sendJson(res, 200, { received: received.file });
      return;
    }
    if (req.method === 'POST' && path === '/v1/enrol') {
      if (!hasAdminToken(req, opts.adminToken)) {
        throw new BankRefusal(401, 'BANK_ADMIN_TOKEN', 'enrolment needs the bank admin token');
      }
      const body = await readBody(req, 64 * 1024);
      const at = now();
      const enrolled = await enrolFromRequest(store, parseJson(body), at);
      // D27: the answer carries the box's holder-digest key, sealed to the key just enrolled.
      const answer = await enrolmentAnswerFor(store, enrolled.boxId, opts.bankPrivateKeyHex, at);
      sendJson(res, 200, { enrolled: enrolled.boxId, answer });
      return;
    }
    if (req.method === 'POST' && path === '/v1/rotate-key') {
      if (!hasAdminToken(req, opts.adminToken)) {
        throw new BankRefusal(401, 'BANK_ADMIN_TOKEN', 'key rotation needs the bank admin token');
      }
      const body = await readBody(req, 64 * 1024);
      const rotated = await rotateBoxKey(store, parseJson(body), now(), (msg, fields) =>
        logger.warn(fields, msg),
      );
      sendJson(res, 200, { rotated: rotated.boxId });
      return;
    }
    throw new BankRefusal(404, 'BANK_NOT_FOUND', `no route ${req.method} ${path}`);
  };

  /**
   * A permanent refusal stops the box's uploader, so the box acts on it only when it verifies against
   * the pinned bank key and names its request (batch/refusal-v1.ts). 429 stays unsigned: the box retries
   * it anyway, and signing every rate-limit answer would hand a flood an SM2 signature per request.
   * What a stranger can make the bank sign is bounded by the per-source limiter.
   */
  const signedPart = (e: BankRefusal, req: http.IncomingMessage): { signed?: unknown } => {
    if (e.status === 429 || e.status < 400 || e.status > 499) return {};
    return {
      signed: signRefusal(
        {
          status: e.status,
          code: e.code,
          message: e.message.slice(0, 1000),
          bankHeadSeq: e.detail.bankHeadSeq ?? null,
          ...claimedRequestOf(req.headers),
          refusedAt: now().toISOString(),
        },
        opts.bankPrivateKeyHex,
      ),
    };
  };

  const listener = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    handle(req, res).catch((e: unknown) => {
      if (e instanceof BankRefusal) {
        metrics.inc('sceneway_bank_refusals_total', { code: e.code });
        logger.info(
          { code: e.code, status: e.status, box: req.headers['x-sceneway-box'] },
          'request refused',
        );
        const unread = !req.complete;
        sendJson(
          res,
          e.status,
          { code: e.code, message: e.message, ...e.detail, ...signedPart(e, req) },
          {
            ...e.headers,
            ...(unread ? { connection: 'close' } : {}),
          },
        );
        if (unread) closeAfterAnswer(req, res);
        return;
      }
      metrics.inc('sceneway_bank_refusals_total', { code: 'BANK_INTERNAL' });
      logger.error(loggableError(e), 'internal error');
      if (!res.headersSent)
        sendJson(res, 503, { code: 'BANK_INTERNAL', message: 'internal error; retry later' });
    });
  };

  const server = opts.tls
    ? https.createServer(
        {
          cert: readFileSync(opts.tls.certPath),
          key: readFileSync(opts.tls.keyPath),
          ca: readFileSync(opts.tls.caPath),
          requestCert: true,
          rejectUnauthorized: true,
        },
        listener,
      )
    : http.createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve);
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `${opts.tls ? 'https' : 'http'}://${host}:${addr.port}`;
  return {
    url,
    store,
    bankPublicKeyHex,
    metrics,
    rateBuckets: () => ({ source: sourceLimiter.size, box: ctx.limiter.size }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownsStore) await store.close();
    },
  };
}

/**
 * A refusal sent before the body was read: read no more of it. Node would otherwise drain the rest of
 * the body to keep the connection alive (an 8 MiB upload read after its 413). The answer goes out
 * with `Connection: close` and a FIN; the socket stops reading and is destroyed once the answer left,
 * or after a grace period for a peer that never closes.
 */
function closeAfterAnswer(req: http.IncomingMessage, res: http.ServerResponse): void {
  const socket = req.socket;
  socket.pause();
  res.once('finish', () => {
    socket.end();
    setTimeout(() => socket.destroy(), 2000).unref();
  });
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new BankRefusal(400, 'BANK_ENROL_MALFORMED', 'enrolment request is not JSON');
  }
}

/** Verifies a self-signed enrolment (proof of possession, 004 §5.1.4 c) and stores the box key. */
export async function enrolFromRequest(
  store: BankStore,
  request: unknown,
  at: Date,
): Promise<{ boxId: string }> {
  try {
    const e = verifyEnrolmentRequest(request);
    const existing = await store.getBox(e.boxId);
    if (existing && existing.publicKeyHex !== e.publicKeyHex) {
      // A new key for an enrolled box only by a rotation its current key signs (key-rotation.ts).
      throw new BankRefusal(
        409,
        'BANK_BOX_ALREADY_ENROLLED',
        `box ${e.boxId} is enrolled with another key; rotate it with POST /v1/rotate-key, signed by the enrolled key`,
      );
    }
    if (existing) return { boxId: e.boxId }; // the same key again: nothing changes
    await store.enrolBox({
      boxId: e.boxId,
      siteId: e.siteId,
      publicKeyHex: e.publicKeyHex,
      enrolledAt: at.toISOString(),
    });
    return { boxId: e.boxId };
  } catch (e) {
    if (e instanceof SyncError) throw new BankRefusal(400, `BANK_${e.code}`, e.message);
    throw e;
  }
}
