import { newRequestNonce, SyncError, verifyAck } from '@sceneway/cloud-sync';
import { fullJitterDelay, sleep } from '@sceneway/core';
import type { Clock } from '../clock.ts';
import type { AlertSink, SqliteLedger } from '../ledger/ledger.ts';
import { createOutbox, type PendingBatch } from '../ledger/outbox.ts';
import type { Logger } from '../logger.ts';
import { behindBank, classifyBankAnswer } from './bank-answer.ts';
import { type BankClient, createBankClient } from './bank-client.ts';
import { type BatchBuilder, inlineBatchBuilder } from './batch-builder.ts';
import { signedBoxHeaders } from './box-request.ts';
import { wakeableSleep } from './wakeable-sleep.ts';

export interface UploaderOptions {
  ledger: SqliteLedger;
  boxId: string;
  boxPrivateKeyHex: string;
  /** Pinned in config (DESIGN invariant 7): the only key whose acks count. */
  bankPublicKeyHex: string;
  bankUrl: string;
  userId?: string;
  tls?: { certPath: string; keyPath: string; caPath?: string | undefined } | undefined;
  limits: {
    maxRecords: number;
    maxBytes: number;
    maxAgeMs: number;
    backoffBaseMs: number;
    backoffCapMs: number;
  };
  clock: Clock;
  logger: Logger;
  alerts?: AlertSink;
  /** The bank connection (the agent shares one among its parts); created and closed here when absent. */
  client?: BankClient;
  /** Where batches are built; default: on this thread. The agent passes a worker-thread builder. */
  builder?: BatchBuilder;
  onAck?: (info: { batchSeq: number; lastSeq: number; records: number; status: string }) => void;
  /** Every failed attempt (send, answer, build, recording the ack), with its SYNC_* code. */
  onFailure?: (code: string) => void;
  /** Box clock minus bank clock, estimated from each verified ack (bank time at mid round trip). */
  onClockSample?: (offsetMs: number) => void;
  /** The send loop died of an unexpected error (a bug, not a bank answer): the agent restarts the part. */
  onCrash?: (error: Error) => void;
}

export type UploaderState = 'idle' | 'sending' | 'backoff' | 'stopped';

export interface UploaderStatus {
  state: UploaderState;
  consecutiveFailures: number;
  lastAckAt: string | null;
  lastError: { code: string; message: string } | null;
  batchesAcked: number;
}

/**
 * Drains the outbox to the bank, one batch at a time, in order. A batch is built from the outbox
 * (by count, bytes and age), stored durably, then sent; after a lost ack or a restart the *stored
 * bytes* are sent again (a rebuilt batch would differ: fresh SM4 key and signature randomness), so the
 * bank dedupes it by (box, batchSeq, digest) and the records are counted once (DESIGN invariant 2).
 * Records leave the outbox only after an ack signed by the pinned bank key, about this very batch and
 * request, has verified. A permanent refusal stops the uploader with an alert: it never skips a record.
 */
export function createUploader(options: UploaderOptions) {
  const outbox = createOutbox(options.ledger);
  const client = options.client ?? createBankClient({ baseUrl: options.bankUrl, tls: options.tls });
  const sleeper = wakeableSleep();
  const abort = new AbortController();
  const status: UploaderStatus = {
    state: 'idle',
    consecutiveFailures: 0,
    lastAckAt: null,
    lastError: null,
    batchesAcked: 0,
  };
  const sm2 = options.userId ? { userId: options.userId } : {};
  let loop: Promise<void> | null = null;
  const backoffPolicy = {
    initialDelayMs: options.limits.backoffBaseMs,
    maxDelayMs: options.limits.backoffCapMs,
  };
  // wake() only cuts short a wait for an empty outbox; a young partial batch waits for its age.
  let waitingForRecords = false;

  const fail = (code: string, message: string) => {
    status.consecutiveFailures++;
    status.lastError = { code, message };
    options.onFailure?.(code);
  };

  const builder =
    options.builder ??
    inlineBatchBuilder(outbox.readUnsynced, {
      boxPrivateKeyHex: options.boxPrivateKeyHex,
      bankPublicKeyHex: options.bankPublicKeyHex,
      userId: options.userId,
    });

  /** Builds and stores the next batch, or says how long to wait before one is due. */
  const buildNext = async (): Promise<PendingBatch | { waitMs: number; empty: boolean }> => {
    const cursor = outbox.cursor();
    const due = outbox.unsyncedAfter(cursor.afterSeq, options.limits.maxRecords);
    if (due.count === 0) return { waitMs: 1000, empty: true };
    const age = options.clock.now() - Date.parse(due.oldestRecordedAt ?? '');
    if (due.count < options.limits.maxRecords && age < options.limits.maxAgeMs) {
      return { waitMs: Math.max(10, options.limits.maxAgeMs - age), empty: false };
    }
    const batch = await builder.build({
      boxId: options.boxId,
      batchSeq: cursor.nextBatchSeq,
      afterSeq: cursor.afterSeq,
      prevChainHead: cursor.chainHead,
      maxRecords: options.limits.maxRecords,
      maxBytes: options.limits.maxBytes,
      createdAt: new Date(options.clock.now()).toISOString(),
    });
    if (!batch) return { waitMs: 1000, empty: true };
    outbox.savePendingBatch(batch);
    // On disk before it is ever sent: after a power loss the box must resend these very bytes.
    await options.ledger.durable();
    return batch;
  };

  /**
   * A batch whose ack verified but is not yet recorded: recording it (a transaction on this thread)
   * waits until the next batch is on its way, so it overlaps the bank's work instead of idling it.
   * If the box dies in between, the stored batch is resent and the bank re-acks it ('duplicate').
   */
  let verified: { batch: PendingBatch; ackJson: string; status: string } | null = null;

  const recordVerifiedAck = () => {
    if (!verified) return;
    const { batch, ackJson, status: ackStatus } = verified;
    verified = null;
    try {
      outbox.markBatchAcknowledged(batch, ackJson);
    } catch (err) {
      // Not recorded: the batch stays stored and is resent; the bank re-acks it as a duplicate.
      fail('SYNC_RECORD_ACK', `recording the bank's ack failed: ${(err as Error).message}`);
      options.logger.warn(
        { batchSeq: batch.batchSeq, err: (err as Error).message },
        'recording an ack failed',
      );
      return;
    }
    status.batchesAcked++;
    status.lastAckAt = new Date(options.clock.now()).toISOString();
    options.onAck?.({
      batchSeq: batch.batchSeq,
      lastSeq: batch.lastSeq,
      records: batch.recordCount,
      status: ackStatus,
    });
  };

  /**
   * The bank holds records of this box at or past the batch's first seq: the ledger was restored from
   * an older copy or lost its tail, and the records it appended since carry sequence numbers the bank
   * already holds for other records. Uploading stops, loudly, and nothing is renumbered or deleted:
   * which records are the real ones is for support to settle with the bank (docs/decisions.md D17).
   */
  const stopBehindBank = (batch: PendingBatch, bankHeadSeq: number | null, refusal: string) => {
    const head = options.ledger.stats().headSeq;
    const bankHolds = bankHeadSeq === null ? `batch ${batch.batchSeq}` : `records up to seq ${bankHeadSeq}`;
    const message =
      `the bank already holds ${bankHolds} of this box, but this ledger knows of acknowledged records only ` +
      `up to seq ${batch.firstSeq - 1} (its head is ${head}): the ledger is behind the bank (${refusal})`;
    fail('LEDGER_BEHIND_BANK', message);
    options.alerts?.raise({
      code: 'LEDGER_BEHIND_BANK',
      message,
      hint:
        'The ledger was restored from an older copy or lost records. Uploads are stopped and nothing was ' +
        'deleted or renumbered; restore the newest ledger copy of this box, or contact support with ' +
        '`sceneway ledger verify` output. Do not start a fresh ledger.',
    });
    options.logger.error(
      { code: 'LEDGER_BEHIND_BANK', batchSeq: batch.batchSeq, bankHeadSeq, head },
      message,
    );
  };

  /** Sends one stored batch once. Returns 'acked', 'retry' or 'stop'. */
  const sendOnce = async (batch: PendingBatch, onSent?: () => void): Promise<'acked' | 'retry' | 'stop'> => {
    const nonce = newRequestNonce();
    const headers = signedBoxHeaders(options, batch.digest, new Date(options.clock.now()), nonce);
    let answer: { status: number; body: Buffer };
    const sentAt = options.clock.now();
    try {
      answer = await client.post('/v1/batches', batch.body, headers, onSent);
    } catch (err) {
      // The client's own refusals (an oversized or too slow answer) keep their code; both are retried.
      const code = (err as { code?: unknown }).code;
      if (code === 'SYNC_ANSWER_TOO_LARGE' || code === 'SYNC_BANK_DEADLINE')
        fail(code, (err as Error).message);
      else fail('SYNC_BANK_UNREACHABLE', `bank unreachable: ${(err as Error).message}`);
      return 'retry';
    }
    const verdict = classifyBankAnswer(answer, {
      bankPublicKeyHex: options.bankPublicKeyHex,
      boxId: options.boxId,
      requestNonce: nonce,
      userId: options.userId,
    });
    if (verdict.kind === 'retry') {
      fail(verdict.code, verdict.message);
      if (verdict.code === 'SYNC_REFUSAL_UNVERIFIED' && status.consecutiveFailures >= 3) {
        options.alerts?.raise({
          code: 'SYNC_REFUSAL_UNVERIFIED',
          message: `refusals of batch ${batch.batchSeq} do not verify with the pinned bank key: ${verdict.message}`,
          hint: 'Something between the box and the bank answers in its name (a proxy, or an attack); the batch is kept and resent. Check the network path and bank.publicKeyHex.',
        });
      }
      return 'retry';
    }
    if (verdict.kind === 'stop') {
      const behind = behindBank(verdict, batch);
      if (behind) {
        stopBehindBank(batch, behind.bankHeadSeq, verdict.code);
        return 'stop';
      }
      fail(verdict.code, verdict.message);
      const message = `the bank refused batch ${batch.batchSeq} (records ${batch.firstSeq}-${batch.lastSeq}) for good: ${verdict.code} ${verdict.message}`;
      options.alerts?.raise({
        code: 'SYNC_BATCH_REFUSED',
        message,
        hint: 'Uploads for this box are stopped; no record was skipped or deleted. Check the bank enrolment and the chain (`sceneway ledger verify`), then restart the agent.',
      });
      options.logger.error({ code: verdict.code, batchSeq: batch.batchSeq }, message);
      return 'stop';
    }
    try {
      const ack = verifyAck(
        answer.body,
        options.bankPublicKeyHex,
        { boxId: options.boxId, batchSeq: batch.batchSeq, digest: batch.digest, requestNonce: nonce },
        sm2,
      );
      if (ack.lastSeq !== batch.lastSeq)
        throw new SyncError('SYNC_ACK_MISMATCH', 'the ack names another last sequence');
      verified = { batch, ackJson: answer.body.toString('utf8'), status: ack.status };
      const receivedAt = options.clock.now();
      options.onClockSample?.((sentAt + receivedAt) / 2 - Date.parse(ack.ackedAt));
      status.consecutiveFailures = 0;
      status.lastError = null;
      options.alerts?.clear('SYNC_ACK_INVALID');
      options.alerts?.clear('SYNC_REFUSAL_UNVERIFIED');
      return 'acked';
    } catch (err) {
      // Garbage, a wrong-key or a replayed ack: the batch may or may not be stored. Keep it and resend
      // the same bytes; the bank answers a resend with a fresh ack ('duplicate').
      const code = err instanceof SyncError ? err.code : 'SYNC_ACK_MALFORMED';
      fail(code, (err as Error).message);
      if (status.consecutiveFailures >= 3) {
        options.alerts?.raise({
          code: 'SYNC_ACK_INVALID',
          message: `the bank's answers to batch ${batch.batchSeq} do not verify (${code})`,
          hint: 'Check bank.publicKeyHex and the network path to the bank; the batch is kept and resent.',
        });
      }
      return 'retry';
    }
  };

  const run = async () => {
    let attempt = 0;
    while (!abort.signal.aborted) {
      let next: PendingBatch | { waitMs: number; empty: boolean };
      try {
        // Skip a verified batch whose ack is not recorded yet: it is done, only its bookkeeping waits.
        next = outbox.oldestPendingBatch(verified?.batch.batchSeq ?? 0) ?? (await buildNext());
      } catch (err) {
        options.logger.error({ err: (err as Error).message }, 'building a batch failed');
        fail('SYNC_BUILD', (err as Error).message);
        recordVerifiedAck();
        status.state = 'backoff';
        await sleeper.sleep(fullJitterDelay(backoffPolicy, ++attempt), abort.signal);
        continue;
      }
      if ('waitMs' in next) {
        recordVerifiedAck();
        status.state = 'idle';
        waitingForRecords = next.empty;
        await sleeper.sleep(next.waitMs, abort.signal);
        waitingForRecords = false;
        continue;
      }
      status.state = 'sending';
      let markSent: () => void = () => {};
      const sent = new Promise<void>((resolve) => {
        markSent = resolve;
      });
      const sending = sendOnce(next, markSent);
      // Pipeline: while the bank verifies this batch, record the previous ack and build and store the
      // next batch (the bank works in its own process). Wait until the whole request is in the kernel
      // first: a body larger than the socket buffer needs this event loop to write its tail, and CPU
      // work started earlier would hold that tail back while the bank sits idle (measured: ~24 % idle).
      // At most one batch ahead; a batch is only ever sent after every earlier one was acknowledged.
      await Promise.race([sent, sending]);
      recordVerifiedAck();
      if (outbox.pendingCount() < 2) {
        try {
          await buildNext();
        } catch (err) {
          options.logger.warn(
            { err: (err as Error).message },
            'building the next batch early failed; will retry',
          );
        }
      }
      const outcome = await sending;
      if (outcome === 'acked') {
        attempt = 0;
        continue;
      }
      if (outcome === 'stop') {
        status.state = 'stopped';
        return;
      }
      status.state = 'backoff';
      const delay = fullJitterDelay(backoffPolicy, ++attempt);
      options.logger.warn(
        { code: status.lastError?.code, retryInMs: delay, batchSeq: next.batchSeq },
        'batch not acknowledged; will resend',
      );
      // Appends do not shorten a backoff (a plain sleep, not the wakeable one): only stop() does.
      await sleep(delay, abort.signal);
    }
  };

  return {
    start() {
      loop ??= run()
        .then(recordVerifiedAck)
        .catch((err) => {
          status.state = 'stopped';
          options.logger.error({ err: (err as Error).message }, 'uploader crashed');
          if (!abort.signal.aborted) options.onCrash?.(err instanceof Error ? err : new Error(String(err)));
        });
    },
    /** New records arrived: skip the idle wait (not a backoff). */
    wake() {
      if (waitingForRecords) sleeper.wake();
    },
    status(): UploaderStatus {
      return { ...status };
    },
    async stop() {
      abort.abort();
      await loop;
      await builder.close();
      if (!options.client) client.close();
    },
  };
}

export type Uploader = ReturnType<typeof createUploader>;
