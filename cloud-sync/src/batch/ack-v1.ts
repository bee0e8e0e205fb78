import { z } from 'zod';
import { type Sm2Options, sm2Sign, sm2Verify } from '../crypto/sm2.ts';
import { SyncError } from '../sync-error.ts';
import { hex64, hexBytes, parseJsonWith } from './batch-schema.ts';
import { canonicalBytes } from './jcs.ts';

/**
 * The bank's signed acknowledgement of one batch. The box deletes nothing until it has verified
 * one (DESIGN: "nothing is deleted before the bank's signed acknowledgement ... has been verified"),
 * so an ack must be bound to the exact batch: box, batch sequence, digest and, when the box sent
 * one, the request nonce (004 §5.3.1 h). A validly signed ack for another batch is a replay.
 *
 *   { format: "sceneway.ack.v1", ack, signature: hex DER SM2-sign(JCS(ack)) with the bank key }
 */
export const ACK_FORMAT = 'sceneway.ack.v1';

export const ackSchema = z.strictObject({
  boxId: z.string().min(1).max(128),
  batchSeq: z.number().int().nonnegative().refine(Number.isSafeInteger),
  lastSeq: z.number().int().nonnegative().refine(Number.isSafeInteger),
  digest: hex64,
  /** 'duplicate': the bank already stored this batch (a resend after a lost ack); same meaning to the box. */
  status: z.enum(['stored', 'duplicate']),
  ackedAt: z.iso.datetime({ offset: false }),
  /** The X-Sceneway-Nonce of the request being answered, or null (e.g. an ack fetched later). */
  requestNonce: z.string().min(1).max(128).nullable(),
});

export const ackEnvelopeSchema = z.strictObject({
  format: z.literal(ACK_FORMAT),
  ack: ackSchema,
  signature: hexBytes,
});

export type Ack = z.infer<typeof ackSchema>;

export function buildAck(ack: Ack, bankPrivateKeyHex: string, opts: Sm2Options = {}): Buffer {
  const checked = ackSchema.parse(ack);
  const signature = sm2Sign(canonicalBytes(checked), bankPrivateKeyHex, opts).toString('hex');
  return canonicalBytes({ format: ACK_FORMAT, ack: checked, signature });
}

export interface AckExpectation {
  boxId: string;
  batchSeq: number;
  digest: string;
  /** When given, the ack must echo it; pass the nonce of the request just sent. */
  requestNonce?: string;
}

/**
 * Box side. Returns the ack only if it is well formed, signed by the pinned bank key and about
 * this very batch. Throws SyncError 'SYNC_ACK_MALFORMED' | 'SYNC_ACK_SIGNATURE' | 'SYNC_ACK_MISMATCH'.
 */
export function verifyAck(
  bytes: Uint8Array,
  bankPublicKeyHex: string,
  expect: AckExpectation,
  opts: Sm2Options = {},
): Ack {
  const env = parseJsonWith(bytes, ackEnvelopeSchema, 'SYNC_ACK_MALFORMED', 'bank acknowledgement');
  if (!sm2Verify(canonicalBytes(env.ack), Buffer.from(env.signature, 'hex'), bankPublicKeyHex, opts)) {
    throw new SyncError(
      'SYNC_ACK_SIGNATURE',
      'bank acknowledgement signature does not verify with the pinned bank public key',
      'check bank.publicKeyHex in the box config; keep the batch and retry',
    );
  }
  const a = env.ack;
  const mismatches: string[] = [];
  if (a.boxId !== expect.boxId) mismatches.push('boxId');
  if (a.batchSeq !== expect.batchSeq) mismatches.push('batchSeq');
  if (a.digest !== expect.digest) mismatches.push('digest');
  if (expect.requestNonce !== undefined && a.requestNonce !== expect.requestNonce)
    mismatches.push('requestNonce');
  if (mismatches.length > 0) {
    throw new SyncError(
      'SYNC_ACK_MISMATCH',
      `signed acknowledgement is for another batch or request (${mismatches.join(', ')} differ): possibly a replayed ack`,
      'keep the batch and resend it',
    );
  }
  return a;
}
