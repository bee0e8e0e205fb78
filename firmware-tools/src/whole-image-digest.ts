import { Worker } from 'node:worker_threads';

/**
 * SM3 of the whole image in a worker thread, while the main thread checks the chunk digests: SM3 is a
 * chain (no tree mode), so the two digests are two full passes over the bytes, and on a 2-core box they
 * run side by side instead of one after the other (bench/firmware-verify.bench.ts). It also halves what
 * a 64 MiB verification takes from the event loop that serves the terminals.
 *
 * The worker is a plain CommonJS script passed as source (`eval`), so it runs the same under tsx,
 * vitest and the esbuild bundle, with no file of its own to ship. It reads the file itself (the page
 * cache makes the second read cheap) and answers { sm3 } or { short: true } if the file ends early.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const { path, offset, size } = workerData;
const fd = openSync(path, 'r');
try {
  const hash = createHash('sm3');
  const block = Buffer.allocUnsafe(Math.min(1048576, size));
  let done = 0;
  let short = false;
  while (done < size) {
    const n = readSync(fd, block, 0, Math.min(block.length, size - done), offset + done);
    if (n === 0) { short = true; break; }
    hash.update(block.subarray(0, n));
    done += n;
  }
  parentPort.postMessage(short ? { short: true } : { sm3: hash.digest('hex') });
} finally {
  closeSync(fd);
}
`;

export interface WholeImageDigest {
  /** The hex digest, or null when the file ended before `size` bytes. */
  result: Promise<string | null>;
  /** Stops the worker (a chunk already failed: its answer is not needed). */
  cancel(): void;
}

export function wholeImageSm3InWorker(path: string, offset: number, size: number): WholeImageDigest {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, offset, size } });
  const result = new Promise<string | null>((resolve, reject) => {
    worker.once('message', (m: { sm3?: string; short?: boolean }) =>
      resolve(m.short ? null : (m.sm3 ?? null)),
    );
    worker.once('error', reject);
    worker.once('exit', (code) =>
      reject(new Error(`the SM3 worker stopped (exit ${code}) before answering`)),
    );
  });
  // A cancelled worker's rejection is nobody's business.
  result.catch(() => {});
  return {
    result,
    cancel: () => {
      void worker.terminate();
    },
  };
}
