import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SyncError } from '@sceneway/cloud-sync';
import { isGatewayErrorCode, isSyncErrorCode } from '@sceneway/core';
import { GatewayError } from '../gateway-error.ts';
import type { PendingBatch, UnsyncedReader } from '../ledger/outbox.ts';
import { type BatchBuildKeys, type BatchBuildRequest, buildNextBatch } from './batch-build.ts';
import type { BatchWorkerData, BatchWorkerReply } from './batch-worker.ts';

/** Builds the uploader's next batch: on the agent's thread (tests, tools) or on a worker (the agent). */
export interface BatchBuilder {
  build(request: BatchBuildRequest): Promise<PendingBatch | null>;
  close(): Promise<void>;
}

export function inlineBatchBuilder(readUnsynced: UnsyncedReader, keys: BatchBuildKeys): BatchBuilder {
  return {
    build: async (request) => buildNextBatch(readUnsynced, request, keys),
    close: async () => {},
  };
}

/**
 * The worker's bundle (gateway-agent/build.mjs writes it beside the `sceneway` bundle). From the
 * bundle it is a sibling; from the TypeScript sources (tests) it is in ../../dist. Null when it was
 * not built: the agent then builds batches on its own thread.
 */
export function batchWorkerBundle(): string | null {
  for (const candidate of ['./batch-worker.mjs', '../../dist/batch-worker.mjs']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  return null;
}

/**
 * Builds on a worker thread, started at the first build (a box with an empty outbox never pays for
 * it) and again after a crash. One build at a time: the uploader awaits each.
 */
export function workerBatchBuilder(workerPath: string, data: BatchWorkerData): BatchBuilder {
  let worker: Worker | null = null;
  let nextId = 1;
  const waiting = new Map<
    number,
    { resolve: (b: PendingBatch | null) => void; reject: (e: Error) => void }
  >();

  const failAll = (error: Error) => {
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  };

  const start = (): Worker => {
    const w = new Worker(workerPath, { workerData: data });
    w.on('message', (reply: BatchWorkerReply) => {
      const entry = waiting.get(reply.id);
      if (!entry) return;
      waiting.delete(reply.id);
      if (!reply.ok) {
        entry.reject(errorFromWorker(reply.error));
        return;
      }
      const b = reply.batch;
      entry.resolve(b && { ...b, body: Buffer.from(b.body.buffer, b.body.byteOffset, b.body.byteLength) });
    });
    w.on('error', (err) => failAll(new SyncError('SYNC_BUILD', `the batch worker failed: ${err.message}`)));
    w.on('exit', (code) => {
      if (worker === w) worker = null;
      failAll(new SyncError('SYNC_BUILD', `the batch worker exited (code ${code})`));
    });
    // Never keep the agent alive on its own.
    w.unref();
    return w;
  };

  return {
    build(request) {
      worker ??= start();
      const id = nextId++;
      const promise = new Promise<PendingBatch | null>((resolve, reject) =>
        waiting.set(id, { resolve, reject }),
      );
      worker.postMessage({ id, request });
      return promise;
    },
    async close() {
      const w = worker;
      worker = null;
      if (w) await w.terminate();
    },
  };
}

/**
 * A worker's error crosses the thread as plain text: its code is checked against the lists (not
 * trusted) and becomes the error of its layer again (a ledger error stays a GatewayError).
 */
function errorFromWorker(error: { code: string; message: string }): Error {
  if (isGatewayErrorCode(error.code)) return new GatewayError(error.code, error.message);
  return new SyncError(isSyncErrorCode(error.code) ? error.code : 'SYNC_BUILD', error.message);
}
