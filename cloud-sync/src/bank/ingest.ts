import type { BankRefusalCode } from '@sceneway/core';
import { buildAck } from '../batch/ack-v1.ts';
import type { ParsedBatch, ReadBatch } from '../batch/batch-v1.ts';
import {
  checkBatchCanonical,
  checkBatchInternalsInSlices,
  openPersonalDataInSlices,
  readBatchEnvelope,
  verifyBatchSignature,
} from '../batch/batch-v1.ts';
import { frameBatchEnvelope } from '../batch/envelope-frame.ts';
import { sm3Hex } from '../crypto/sm3.ts';
import { SyncError } from '../sync-error.ts';
import type { BankMetrics } from './metrics.ts';
import type { RateLimiter } from './rate-limit.ts';
import { BankRefusal } from './refusal.ts';
import { checkRequestSignature, type SignedHeaders, spendBoxQuota } from './request-gate.ts';
import type { BankStore, CommitOutcome, EnrolledBox } from './store.ts';

export interface IngestContext {
  store: BankStore;
  bankPrivateKeyHex: string;
  /** Per-box buckets, charged only after the request signature verified (request-gate.ts). */
  limiter: RateLimiter;
  /** Most records read from one batch (default MAX_BATCH_RECORDS, the box's sync.maxRecords ceiling). */
  maxRecords?: number;
  metrics: BankMetrics;
  /** ±window for X-Sceneway-Timestamp and how long nonces are remembered (004 §5.3.1 h). */
  requestWindowMs: number;
  now: () => Date;
  log: (level: 'info' | 'warn', msg: string, fields: Record<string, unknown>) => void;
}

export interface IngestResult {
  status: 200;
  ackBytes: Buffer;
  outcome: 'stored' | 'duplicate';
}

function refusalFromSync(e: unknown, status: number, fallback: BankRefusalCode): BankRefusal {
  if (e instanceof SyncError) return new BankRefusal(status, `BANK_${e.code}`, e.message);
  return new BankRefusal(status, fallback, e instanceof Error ? e.message : String(e));
}

/** A refusal that also raises a tamper alert: the batch is signed by the box yet contradicts itself. */
class TamperRefusal extends BankRefusal {}

/** Lets I/O callbacks (the database's answers, socket writes) run between two slices of CPU work. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs a sliced check to its end, giving the event loop a turn after every slice. */
async function runInSlices(slices: Generator<void, void, void>): Promise<void> {
  for (let step = slices.next(); !step.done; step = slices.next()) await nextTurn();
}

/**
 * What makes an authenticated, parsed batch trustworthy: canonical form, the batch signature,
 * internals, personal data. CPU-heavy steps run in slices so the store's transaction for the same
 * batch progresses meanwhile. Throws BankRefusal.
 *
 * It never touches the store: the transaction it runs beside holds a database connection until these
 * checks end, so checks that waited for a connection of their own could wait forever on a bank with
 * more batches in flight than connections (a test holds it to that).
 */
async function verifyBatch(
  ctx: IngestContext,
  box: EnrolledBox,
  read: ReadBatch,
  signedBytes: Buffer,
): Promise<ParsedBatch> {
  await nextTurn(); // the caller starts the store's transaction first, so it is under way meanwhile
  let parsed: ParsedBatch;
  try {
    parsed = checkBatchCanonical(read, signedBytes);
  } catch (e) {
    throw refusalFromSync(e, 400, 'BANK_BATCH_MALFORMED');
  }
  await nextTurn();
  // 004 §5.1.4 b): the batch too must be signed by the enrolled key (the request already was).
  if (!verifyBatchSignature(parsed, box.publicKeyHex)) {
    throw new BankRefusal(
      401,
      'BANK_SIGNATURE_INVALID',
      'batch signature does not verify with the enrolled box key',
    );
  }
  await nextTurn();
  try {
    await runInSlices(checkBatchInternalsInSlices(parsed));
  } catch (e) {
    const refusal = refusalFromSync(e, 422, 'BANK_BATCH_INCONSISTENT');
    throw new TamperRefusal(refusal.status, refusal.code, refusal.message);
  }
  try {
    // 004 §5.1.4 a): the bank checks it can open every seal and that it matches its digest; the
    // plaintext is dropped here, only the sealed form is stored.
    await runInSlices(openPersonalDataInSlices(parsed, ctx.bankPrivateKeyHex, new Map()));
  } catch (e) {
    throw refusalFromSync(e, 422, 'BANK_BATCH_PII');
  }
  return parsed;
}

/** Who sent a batch, as the server's gate established before it read the body (request-gate.ts). */
export interface BatchSender {
  fields: SignedHeaders;
  box: EnrolledBox;
}

/**
 * POST /v1/batches after the server's gate (size, source rate, header formats and window, enrolment;
 * docs/bank-ingest.md "Order of checks"): the request signature over the digest the envelope claims,
 * found without parsing (envelope-frame.ts); then the box's rate bucket and nonce; SM3 over the raw
 * batch bytes; only then JSON and schema, with a record maximum; then canonical form, the batch
 * signature, internals, personal data beside dedupe + chain continuity + store in one transaction.
 * Throws BankRefusal; returns the signed ack.
 *
 * The store's transaction starts as soon as the batch is parsed, under its (checked) digest, and runs
 * while the remaining checks do: a database on another core inserts the records while this thread
 * verifies them. It commits only after every check passed (the `verified` gate) and rolls back
 * otherwise, so nothing unchecked is ever visible; a refusal from the checks wins over the store.
 */
export async function ingestBatch(
  ctx: IngestContext,
  sender: BatchSender,
  body: Buffer,
): Promise<IngestResult> {
  const { fields, box } = sender;
  const boxId = fields.boxId;
  const frame = frameBatchEnvelope(body);
  if (!frame) {
    throw new BankRefusal(
      400,
      'BANK_BATCH_MALFORMED',
      'the body is not a canonical (JCS) sceneway.batch.v1 envelope',
    );
  }
  // 004 §5.3.1 f): the request is signed over the batch digest; a stranger stops here, before the
  // box's quota, the nonce table, a hash of the body or a parse.
  checkRequestSignature(fields, box, frame.claimedDigest);
  await spendBoxQuota(ctx, fields);
  if (sm3Hex(frame.batchBytes) !== frame.claimedDigest) {
    throw new BankRefusal(
      400,
      'BANK_BATCH_DIGEST',
      'envelope digest is not SM3 of the batch bytes: altered in transit or built by a non-conforming encoder',
    );
  }
  ctx.metrics.inc('sceneway_bank_batches_parsed_total');
  let read: ReadBatch;
  try {
    read = readBatchEnvelope(body, { maxRecords: ctx.maxRecords });
  } catch (e) {
    throw refusalFromSync(e, 400, 'BANK_BATCH_MALFORMED');
  }
  const header = read.body.header;
  if (header.boxId !== boxId) {
    throw new BankRefusal(
      400,
      'BANK_BOX_MISMATCH',
      'the batch belongs to another box than the request header names',
    );
  }
  const verifying = verifyBatch(ctx, box, read, frame.batchBytes);
  const verified = verifying.then(() => undefined);
  // Both are awaited below (or by the store); these handlers only keep an early refusal from being
  // reported as unhandled while the store is still busy.
  verifying.catch(() => {});
  verified.catch(() => {});
  /** The checks' result, once the transaction has ended: only then may a tamper alert use the store. */
  const checked = async (): Promise<ParsedBatch> => {
    try {
      return await verifying;
    } catch (e) {
      if (e instanceof TamperRefusal)
        await tamperAlert(ctx, boxId, e.code, `batch ${header.batchSeq}: ${e.message}`);
      throw e;
    }
  };

  let outcome: CommitOutcome;
  try {
    outcome = await ctx.store.commitBatch(
      {
        boxId,
        batchSeq: header.batchSeq,
        digest: read.claimedDigest,
        firstSeq: header.firstSeq,
        lastSeq: header.lastSeq,
        prevChainHead: header.prevChainHead,
        newChainHead: header.newChainHead,
        receivedAt: ctx.now().toISOString(),
        keyEnvelope: read.body.keyEnvelope,
        records: read.body.records.map((r) => ({
          seq: r.seq,
          kind: r.kind,
          terminalId: r.terminalId,
          amountFen: r.amountFen,
          recordedAt: r.recordedAt,
          hash: r.hash,
          payload: r.payload,
          piiSeal:
            r.pii && r.piiDigest
              ? { iv: r.pii.iv, ciphertext: r.pii.ciphertext, piiDigest: r.piiDigest }
              : null,
        })),
      },
      verified,
    );
  } catch (e) {
    await checked(); // a refusal from the checks explains a failed transaction better than the store
    throw e;
  }
  const parsed = await checked();
  switch (outcome.kind) {
    case 'not-enrolled':
      throw new BankRefusal(403, 'BANK_BOX_NOT_ENROLLED', `box ${boxId} is not enrolled at this bank`);
    case 'conflict':
      await tamperAlert(
        ctx,
        boxId,
        'BANK_BATCH_CONFLICT',
        `batch ${header.batchSeq} resent with digest ${parsed.digest}, stored ${outcome.storedDigest}`,
      );
      throw new BankRefusal(
        409,
        'BANK_BATCH_CONFLICT',
        `batch ${header.batchSeq} was already stored with different content`,
        {},
        { bankHeadSeq: (await ctx.store.getBox(boxId))?.headSeq ?? 0 },
      );
    case 'chain-broken':
      throw new BankRefusal(
        409,
        'BANK_CHAIN_BROKEN',
        `batch ${header.batchSeq} does not continue the stored chain (bank head is seq ${outcome.headSeq}); send batches in order`,
        {},
        { bankHeadSeq: outcome.headSeq },
      );
    case 'sequence-gap':
      await tamperAlert(
        ctx,
        boxId,
        'BANK_SEQUENCE_GAP',
        `batch ${header.batchSeq} starts at seq ${header.firstSeq}, bank head is ${outcome.headSeq}`,
      );
      throw new BankRefusal(
        409,
        'BANK_SEQUENCE_GAP',
        `batch ${header.batchSeq} starts at seq ${header.firstSeq} but the bank expects ${outcome.headSeq + 1}`,
        {},
        { bankHeadSeq: outcome.headSeq },
      );
    default: {
      const status = outcome.kind;
      const ackBytes = buildAck(
        {
          boxId,
          batchSeq: header.batchSeq,
          lastSeq: header.lastSeq,
          digest: parsed.digest,
          status,
          ackedAt: ctx.now().toISOString(),
          requestNonce: fields.nonce,
        },
        ctx.bankPrivateKeyHex,
      );
      if (status === 'stored') ctx.metrics.inc('sceneway_bank_records_stored_total', {}, header.recordCount);
      ctx.log('info', 'batch acknowledged', {
        boxId,
        batchSeq: header.batchSeq,
        status,
        records: header.recordCount,
      });
      return { status: 200, ackBytes, outcome: status };
    }
  }
}

async function tamperAlert(ctx: IngestContext, boxId: string, kind: string, detail: string): Promise<void> {
  ctx.metrics.inc('sceneway_bank_tamper_alerts_total', { kind });
  ctx.log('warn', 'tamper alert', { boxId, kind, detail });
  await ctx.store.addAlert({ at: ctx.now().toISOString(), kind, boxId, detail });
}
