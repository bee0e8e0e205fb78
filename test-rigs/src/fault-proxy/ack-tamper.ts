import type { IncomingHttpHeaders } from 'node:http';
import { ackEnvelopeSchema, buildAck, parseJsonWith } from '@sceneway/cloud-sync';

/**
 * The two forged answers a box must see through (DESIGN invariant 2, issue #4): an ack with the
 * right fields but the wrong signer, and a genuine ack of another batch. Both parse acks with the
 * cloud-sync schema, so what is forged is exactly the v1 wire format the uploader verifies.
 */
function parseAck(bytes: Buffer) {
  try {
    return parseJsonWith(bytes, ackEnvelopeSchema, 'SYNC_ACK_MALFORMED', 'bank acknowledgement');
  } catch {
    return null;
  }
}

/** The same ack fields re-signed by another key; null when `bytes` is not an ack (e.g. a refusal). */
export function resignAck(bytes: Buffer, wrongPrivateKeyHex: string): Buffer | null {
  const env = parseAck(bytes);
  return env ? buildAck(env.ack, wrongPrivateKeyHex) : null;
}

/**
 * The batch a request uploads: the box from X-Sceneway-Box and the envelope's `digest` (the batch
 * identity the bank dedupes on). Lenient on purpose: a malformed upload simply has no identity.
 */
export function uploadedBatchOf(
  headers: IncomingHttpHeaders,
  body: Buffer,
): { boxId: string | null; digest: string } | null {
  try {
    const env: unknown = JSON.parse(body.toString('utf8'));
    const digest = typeof env === 'object' && env !== null && 'digest' in env ? env.digest : undefined;
    if (typeof digest !== 'string') return null;
    const box = headers['x-sceneway-box'];
    return { boxId: typeof box === 'string' ? box : null, digest };
  } catch {
    return null;
  }
}

interface SeenAck {
  boxId: string;
  digest: string;
  bytes: Buffer;
}

/** Genuine acks this proxy relayed, newest last, to replay later for another batch. */
export class AckMemory {
  private readonly seen: SeenAck[] = [];
  constructor(private readonly capacity = 256) {}

  remember(bytes: Buffer): void {
    const env = parseAck(bytes);
    if (!env) return;
    if (this.seen.some((s) => s.digest === env.ack.digest && s.boxId === env.ack.boxId)) return;
    this.seen.push({ boxId: env.ack.boxId, digest: env.ack.digest, bytes });
    if (this.seen.length > this.capacity) this.seen.shift();
  }

  /**
   * The newest ack of a different batch, preferring the same box: the most convincing replay,
   * since its signature is the bank's own and only its binding to the batch gives it away.
   */
  replayFor(batch: { boxId: string | null; digest: string }): Buffer | null {
    const others = this.seen.filter((s) => s.digest !== batch.digest);
    const sameBox = others.filter((s) => s.boxId === batch.boxId);
    return (sameBox.at(-1) ?? others.at(-1))?.bytes ?? null;
  }
}
