import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { createUnsyncedReader, type PendingBatch } from '../ledger/outbox.ts';
import { type BatchBuildKeys, type BatchBuildRequest, buildNextBatch } from './batch-build.ts';

/**
 * Builds batches off the agent's event loop (sync/batch-builder.ts starts it): reading, opening and
 * re-sealing personal data, JCS, SM3 and the SM2 signature are CPU work that would otherwise hold up
 * every terminal's frames while a batch is built. Its own connection only reads (query_only); the
 * agent's thread stores the batch and does every write.
 */
export interface BatchWorkerData {
  ledgerPath: string;
  dataKey: Uint8Array;
  keys: BatchBuildKeys;
}

/** A batch as it crosses threads: structured clone turns a Buffer into a plain Uint8Array. */
export type TransferredBatch = Omit<PendingBatch, 'body'> & { body: Uint8Array };

export type BatchWorkerReply =
  | { id: number; ok: true; batch: TransferredBatch | null }
  | { id: number; ok: false; error: { code: string; message: string } };

/**
 * Building batches is background work: on Linux a thread has a nice value of its own, so this one
 * steps back (nice 10) behind the agent's thread that answers the terminals. Elsewhere it is skipped.
 */
export const BATCH_WORKER_NICE = 10;
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, BATCH_WORKER_NICE);
} catch {
  // not Linux, or not permitted: the worker runs at the agent's priority
}

const data = workerData as BatchWorkerData;
const db = new Database(data.ledgerPath, { fileMustExist: true });
db.pragma('query_only = ON');
db.pragma('busy_timeout = 5000');
const readUnsynced = createUnsyncedReader(db, Buffer.from(data.dataKey));

parentPort?.on('message', (message: { id: number; request: BatchBuildRequest }) => {
  try {
    const batch = buildNextBatch(readUnsynced, message.request, data.keys);
    // The body moves to the agent's thread without a second copy. Copied once into an ArrayBuffer of
    // its own first: a small Buffer may sit in Node's shared pool, which must never be transferred.
    if (!batch) {
      parentPort?.postMessage({ id: message.id, ok: true, batch: null } satisfies BatchWorkerReply);
      return;
    }
    const body = new Uint8Array(batch.body);
    const reply: BatchWorkerReply = { id: message.id, ok: true, batch: { ...batch, body } };
    parentPort?.postMessage(reply, [body.buffer]);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const reply: BatchWorkerReply = {
      id: message.id,
      ok: false,
      error: { code: typeof code === 'string' ? code : 'SYNC_BUILD', message: (err as Error).message },
    };
    parentPort?.postMessage(reply);
  }
});
