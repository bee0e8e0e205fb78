import { randomInt } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertSm2PrivateKey, generateSm2KeyPair, sm2PublicKeyOf } from '@sceneway/cloud-sync';
import { AckMemory, resignAck, uploadedBatchOf } from './ack-tamper.ts';
import {
  checkFaultPlan,
  DEFAULT_DELAY_MS,
  FAULT_KINDS,
  type FaultKind,
  type FaultPlan,
  pickFault,
} from './fault-plan.ts';
import { answer, httpUpstream, type RelayedRequest, readWholeRequest, type UpstreamAnswer } from './relay.ts';
import { seededRandom } from './seeded-random.ts';

/** The bank's batch upload route (cloud-sync/src/bank/server.ts); the only one that gets faults. */
export const UPLOAD_METHOD = 'POST';
export const UPLOAD_PATH = '/v1/batches';

export interface FaultProxyOptions {
  /** The bank's base URL, http:// only. */
  target: string;
  port?: number;
  host?: string;
  plan: FaultPlan;
  /** Same seed + same order of upload requests => same faults and same garbage bytes. Random if absent. */
  seed?: number;
  /** Signs the 'wrong-key-ack' forgeries; a fresh SM2 key when absent. */
  wrongAckPrivateKeyHex?: string;
}

/**
 * Each request is counted once: under the fault applied to it, or `forwarded` when it was relayed
 * and answered with the bank's own response. A 'wrong-key-ack' or 'replayed-ack' draw that had
 * nothing to forge (the bank refused, or no ack of another batch was seen yet) counts as forwarded.
 * `upstreamErrors` counts, in addition, exchanges with the bank that failed (answered 502).
 */
export type FaultStats = Record<FaultKind, number> & { forwarded: number; upstreamErrors: number };

export interface FaultProxy {
  url: string;
  seed: number;
  wrongAckPublicKeyHex: string;
  stats(): FaultStats;
  /** The draw for every upload request so far, in arrival order ('none' = clean forward). */
  decisions(): Array<FaultKind | 'none'>;
  setPlan(plan: FaultPlan): void;
  close(): Promise<void>;
}

function emptyStats(): FaultStats {
  const stats = { forwarded: 0, upstreamErrors: 0 } as FaultStats;
  for (const kind of FAULT_KINDS) stats[kind] = 0;
  return stats;
}

/** A body that is never JSON: the first byte is >= 0x80, which no JSON text starts with. */
function garbage(random: ReturnType<typeof seededRandom>): Buffer {
  const bytes = random.bytes(16 + Math.floor(random.next() * 256));
  bytes[0] = (bytes[0] ?? 0) | 0x80;
  return bytes;
}

export async function startFaultProxy(opts: FaultProxyOptions): Promise<FaultProxy> {
  let plan = checkFaultPlan(opts.plan);
  const seed = opts.seed ?? randomInt(2 ** 31);
  // Two streams so the garbage bytes drawn never shift which fault the next request gets.
  const draws = seededRandom(seed);
  const garbageBytes = seededRandom(seed ^ 0x9e3779b9);
  const wrongKey = opts.wrongAckPrivateKeyHex ?? generateSm2KeyPair().privateKeyHex;
  assertSm2PrivateKey(wrongKey);
  const upstream = httpUpstream(new URL(opts.target));
  const acks = new AckMemory();
  const stats = emptyStats();
  const decisions: Array<FaultKind | 'none'> = [];
  const closing = new AbortController();

  const forward = async (req: RelayedRequest, upload: boolean): Promise<UpstreamAnswer> => {
    const a = await upstream.send(req, closing.signal);
    if (upload && a.status === 200) acks.remember(a.body);
    return a;
  };

  /** Counts a request once; a later call (e.g. from the error path) is ignored. */
  const counter = () => {
    let counted = false;
    return (k: FaultKind | 'forwarded') => {
      if (counted) return;
      counted = true;
      stats[k]++;
    };
  };

  const handleUpload = async (
    req: RelayedRequest,
    res: http.ServerResponse,
    kill: () => void,
    count: (k: FaultKind | 'forwarded') => void,
  ): Promise<void> => {
    const fault = pickFault(plan, draws.next());
    decisions.push(fault ?? 'none');
    // Faults that need no ack to forge are counted as soon as they are drawn.
    if (fault !== null && fault !== 'wrong-key-ack' && fault !== 'replayed-ack') count(fault);
    switch (fault) {
      case 'drop-request':
        // The body was read, so the client cannot tell this from a lost response: the ambiguity
        // a resend must survive.
        kill();
        return;
      case 'drop-response':
        await forward(req, true).finally(kill);
        return;
      case 'delay':
        await sleep(plan.delayMs ?? DEFAULT_DELAY_MS, undefined, { signal: closing.signal });
        answer(res, req.method, await forward(req, true));
        return;
      case 'duplicate-request': {
        // Same bytes, same nonce: the bank must store once. Answer with a success if either copy
        // got one, so the client sees the duplicate only through the bank's books.
        const both = await Promise.allSettled([forward(req, true), forward(req, true)]);
        const answers = both.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        const chosen = answers.find((a) => a.status === 200) ?? answers[0];
        if (!chosen) throw (both[0] as PromiseRejectedResult).reason;
        answer(res, req.method, chosen);
        return;
      }
      case 'error-500':
        answer(res, req.method, {
          status: 500,
          headers: { 'content-type': 'application/json' },
          body: Buffer.from(JSON.stringify({ code: 'FAULT_PROXY_500', message: 'injected; not forwarded' })),
        });
        return;
      case 'garbage-body': {
        const a = await forward(req, true);
        answer(res, req.method, { status: 200, headers: a.headers, body: garbage(garbageBytes) });
        return;
      }
      case 'wrong-key-ack': {
        const a = await forward(req, true);
        const forged = a.status === 200 ? resignAck(a.body, wrongKey) : null;
        count(forged ? fault : 'forwarded');
        answer(res, req.method, forged ? { ...a, body: forged } : a);
        return;
      }
      case 'replayed-ack': {
        const batch = uploadedBatchOf(req.headers, req.body);
        const a = await forward(req, true);
        const replay = batch ? acks.replayFor(batch) : null;
        count(replay ? fault : 'forwarded');
        answer(res, req.method, replay ? { status: 200, headers: a.headers, body: replay } : a);
        return;
      }
      case null:
        count('forwarded');
        answer(res, req.method, await forward(req, true));
        return;
    }
  };

  const server = http.createServer((incoming, res) => {
    const kill = () => incoming.socket.destroy();
    const count = counter();
    const path = (incoming.url ?? '/').split('?')[0];
    const upload = incoming.method === UPLOAD_METHOD && path === UPLOAD_PATH;
    const relay = async (req: RelayedRequest): Promise<void> => {
      if (upload) return handleUpload(req, res, kill, count);
      const a = await forward(req, false);
      count('forwarded');
      answer(res, req.method, a);
    };
    const upstreamFailed = (): void => {
      if (closing.signal.aborted) return;
      count('forwarded'); // only reached uncounted by a wrong-key/replayed draw: nothing to forge
      stats.upstreamErrors++;
      if (res.headersSent || res.destroyed) return;
      answer(res, incoming.method ?? 'GET', {
        status: 502,
        headers: { 'content-type': 'application/json' },
        body: Buffer.from(JSON.stringify({ code: 'FAULT_PROXY_UPSTREAM', message: 'bank unreachable' })),
      });
    };
    readWholeRequest(incoming).then(
      (req) => relay(req).catch(upstreamFailed),
      () => {}, // the client left before its request was complete: there is nothing to relay
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', resolve);
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;

  return {
    url: `http://${host}:${addr.port}`,
    seed,
    wrongAckPublicKeyHex: sm2PublicKeyOf(wrongKey),
    stats: () => ({ ...stats }),
    decisions: () => [...decisions],
    setPlan(next) {
      plan = checkFaultPlan(next);
    },
    async close() {
      closing.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      upstream.close();
    },
  };
}
