import type { BankRefusalCode } from '@sceneway/core';
import { buildAck } from '../batch/ack-v1.ts';
import type { ParsedBatch, ReadBatch } from '../batch/batch-v1.ts';
import {
  checkBatchDigest,
  checkBatchInternalsInSlices,
  openPersonalDataInSlices,
  readBatchEnvelope,
  verifyBatchSignature,
} from '../batch/batch-v1.ts';
import { type HeaderBag, REQUEST_HEADERS, verifyRequestHeaders } from '../batch/request-auth.ts';
import { SyncError } from '../sync-error.ts';
import type { BankMetrics } from './metrics.ts';
import type { BoxRateLimiter } from './rate-limit.ts';
import { BankRefusal } from './refusal.ts';
import type { BankStore, CommitOutcome, EnrolledBox } from './store.ts';

export interface IngestContext {
  store: BankStore;
  bankPrivateKeyHex: string;
  limiter: BoxRateLimiter;
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

function headerOf(headers: HeaderBag, name: string): string {
  const v = headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) throw new BankRefusal(400, 'BANK_REQUEST_MALFORMED', `missing header ${name}`);
  return s;
}

function refusalFromSync(e: unknown, status: number, fallback: BankRefusalCode): BankRefusal {
  if (e instanceof SyncError) return new BankRefusal(status, `BANK_${e.code}`, e.message);
  return new BankRefusal(status, fallback, e instanceof Error ? e.message : String(e));
}

/**
 * The checks every signed box request passes before any expensive work: a known header set, the
 * per-box rate limit (004 §5.4 b) and request uniqueness, a timestamp inside the window and a nonce not
 * seen in it (004 §5.3.1 h). Returns the box id the request names.
 */
export async function admitBoxRequest(ctx: IngestContext, headers: HeaderBag): Promise<string> {
  const boxId = headerOf(headers, REQUEST_HEADERS.box);
  const retryAfter = ctx.limiter.take(boxId);
  if (retryAfter > 0) {
    throw new BankRefusal(
      429,
      'BANK_RATE_LIMITED',
      `box exceeds its request rate; retry in ${retryAfter} s`,
      {
        'retry-after': String(retryAfter),
      },
    );
  }
  const nonce = headerOf(headers, REQUEST_HEADERS.nonce);
  const timestamp = headerOf(headers, REQUEST_HEADERS.timestamp);
  const nowMs = ctx.now().getTime();
  const tsMs = /^\d+$/.test(timestamp) ? Number(timestamp) : Date.parse(timestamp);
  if (!Number.isFinite(tsMs) || Math.abs(tsMs - nowMs) > ctx.requestWindowMs) {
    throw new BankRefusal(
      401,
      'BANK_REQUEST_STALE',
      'request timestamp is outside the accepted window; check the box clock',
    );
  }
  if (!(await ctx.store.rememberNonce(boxId, nonce, nowMs, ctx.requestWindowMs))) {
    throw new BankRefusal(
      409,
      'BANK_NONCE_REPLAYED',
      'this request nonce was already used: replayed request',
    );
  }
  return boxId;
}

/** The request must be signed, over `digest`, by the key enrolled for the box (004 §5.3.1 f). */
export async function verifyBoxRequestSignature(
  ctx: IngestContext,
  headers: HeaderBag,
  boxId: string,
  digest: string,
): Promise<EnrolledBox> {
  return checkBoxRequestSignature(ctx, headers, boxId, await ctx.store.getBox(boxId), digest);
}

/** verifyBoxRequestSignature with the box already looked up (null: not enrolled). */
function checkBoxRequestSignature(
  ctx: IngestContext,
  headers: HeaderBag,
  boxId: string,
  box: EnrolledBox | null,
  digest: string,
): EnrolledBox {
  if (!box) throw new BankRefusal(403, 'BANK_BOX_NOT_ENROLLED', `box ${boxId} is not enrolled at this bank`);
  try {
    verifyRequestHeaders(headers, digest, box.publicKeyHex, {
      now: ctx.now(),
      maxSkewMs: ctx.requestWindowMs,
    });
  } catch (e) {
    if (e instanceof SyncError && e.code === 'SYNC_REQUEST_MALFORMED')
      throw new BankRefusal(400, 'BANK_REQUEST_MALFORMED', e.message);
    if (e instanceof SyncError && e.code === 'SYNC_REQUEST_STALE')
      throw new BankRefusal(401, 'BANK_REQUEST_STALE', e.message);
    throw new BankRefusal(
      401,
      'BANK_SIGNATURE_INVALID',
      'request signature does not verify with the enrolled box key',
    );
  }
  return box;
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
 * Everything that makes a read batch trustworthy, in the documented order: digest, enrolment and the
 * request signature, the batch signature, internals, personal data. CPU-heavy steps run in slices so
 * the store's transaction for the same batch progresses meanwhile. Throws BankRefusal.
 *
 * It never touches the store: the transaction it runs beside holds a database connection until these
 * checks end, so checks that waited for a connection of their own could wait forever on a bank with
 * more batches in flight than connections (a test holds it to that).
 */
async function verifyBatch(
  ctx: IngestContext,
  headers: HeaderBag,
  boxId: string,
  box: EnrolledBox | null,
  read: ReadBatch,
): Promise<ParsedBatch> {
  await nextTurn(); // the caller starts the store's transaction first, so it is under way meanwhile
  let parsed: ParsedBatch;
  try {
    parsed = checkBatchDigest(read);
  } catch (e) {
    throw refusalFromSync(e, 400, 'BANK_BATCH_MALFORMED');
  }
  // 004 §5.1.4 b), §5.3.1 f): both the request and the batch must be signed by the enrolled key.
  const enrolled = checkBoxRequestSignature(ctx, headers, boxId, box, parsed.digest);
  await nextTurn();
  if (!verifyBatchSignature(parsed, enrolled.publicKeyHex)) {
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

/**
 * POST /v1/batches, checks in the documented order (docs/bank-ingest.md): rate limit, request
 * uniqueness, parse, enrolment, signatures, internals, personal data, then dedupe + chain
 * continuity + store in one transaction. Throws BankRefusal; returns the signed ack.
 *
 * The store's transaction starts as soon as the batch is parsed, under its claimed digest, and runs
 * while the checks do: a database on another core inserts the records while this thread verifies
 * them. It commits only after every check passed (the `verified` gate) and rolls back otherwise, so
 * nothing unchecked is ever visible; a refusal from the checks wins over anything the store says.
 */
export async function ingestBatch(
  ctx: IngestContext,
  headers: HeaderBag,
  body: Buffer,
): Promise<IngestResult> {
  const boxId = await admitBoxRequest(ctx, headers);

  let read: ReadBatch;
  try {
    read = readBatchEnvelope(body);
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
  const box = await ctx.store.getBox(boxId);
  const verifying = verifyBatch(ctx, headers, boxId, box, read);
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
          requestNonce: headerOf(headers, REQUEST_HEADERS.nonce),
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
