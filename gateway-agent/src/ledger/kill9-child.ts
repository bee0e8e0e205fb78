import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { openLedger, type SqliteLedger } from './ledger.ts';
import { createOutbox } from './outbox.ts';
import { saleInput, TEST_DATA_KEY } from './test-support.ts';
import { createWalSync } from './wal-sync.ts';

/**
 * Child process of the kill -9 test (kill9.test.ts). Every mode ends in SIGKILL:
 * - `append`: 32 concurrent callers; one `ACK <seq> <hash>` line per record, printed only after its
 *   append resolved; the parent kills at a (seeded) random moment.
 * - `open-delay US`: a killer thread fires US µs after openLedger starts (a timer on the main thread
 *   could not fire while it is inside SQLite). `PHASE-DONE <µs>` says open ended first.
 * - `open-sync`: killed inside openLedger after its migration and boot writes, before they are synced.
 * - `migration BYTES`: a fresh file; killed as soon as the -wal holds BYTES, inside the schema commit.
 * - `checkpoint FRACTION`: 1,000 records in the WAL, then a TRUNCATE checkpoint killed once the
 *   database file has grown by FRACTION of what the checkpoint copies into it.
 * Every 50 records a synthetic bank ack moves the synced watermark, so the outbox transaction is
 * killed too.
 */
const [pathArg, mode = 'append', arg = '0'] = process.argv.slice(2);
if (!pathArg) throw new Error('usage: kill9-child LEDGER_PATH MODE [ARG]');
const path: string = pathArg;

// process.stdout on a pipe writes synchronously on Linux, in order; a line not written when the kill
// lands was never claimed. (fs.writeSync(1) fails with EAGAIN on the non-blocking pipe when it is full.)
const say = (line: string) => process.stdout.write(`${line}\n`);

// CommonJS, run by the worker: waits (delay, or a file reaching a size) and SIGKILLs the process.
const KILLER = `
  const { parentPort } = require('node:worker_threads');
  const { statSync } = require('node:fs');
  parentPort.on('message', (m) => {
    const cell = new Int32Array(new SharedArrayBuffer(4));
    if (m.delayUs > 0) Atomics.wait(cell, 0, 0, m.delayUs / 1000);
    if (m.file) {
      const giveUpAt = Date.now() + 3000;
      while ((statSync(m.file, { throwIfNoEntry: false })?.size ?? 0) < m.atLeast && Date.now() < giveUpAt) {}
    }
    process.kill(m.pid, 'SIGKILL');
  });
  parentPort.postMessage('ready');
`;

async function armKiller(): Promise<(when: { delayUs?: number; file?: string; atLeast?: number }) => void> {
  const worker = new Worker(KILLER, { eval: true });
  await new Promise((resolve) => worker.once('message', resolve));
  return (when) => worker.postMessage({ pid: process.pid, ...when });
}

const open = (extra: Partial<Parameters<typeof openLedger>[0]> = {}) =>
  openLedger({ path, boxId: 'box-kill9', dataKey: TEST_DATA_KEY, ...extra });

const ackedBatchSeq = (ledger: SqliteLedger) =>
  Number(ledger.db.prepare("SELECT value FROM meta WHERE key = 'acked_batch_seq'").pluck().get() ?? 0);

/** The bank's ack of everything but the newest few records, recorded as the uploader records it. */
function ackAllButNewest(ledger: SqliteLedger): void {
  const synced = ledger.stats().lastSyncedSeq;
  const lastSeq = ledger.stats().headSeq - 3;
  if (lastSeq <= synced) return;
  const hash = ledger.db.prepare('SELECT hash FROM records WHERE seq = ?').pluck().get(lastSeq) as string;
  createOutbox(ledger).markBatchAcknowledged(
    {
      batchSeq: ackedBatchSeq(ledger) + 1,
      firstSeq: synced + 1,
      lastSeq,
      recordCount: lastSeq - synced,
      prevChainHead: '',
      chainHead: hash,
      digest: '',
      body: Buffer.alloc(0),
      createdAt: new Date().toISOString(),
    },
    '{}',
  );
}

function appendUnderLoad(ledger: SqliteLedger): void {
  let next = ledger.stats().headSeq * 10 + 1;
  const caller = async (): Promise<never> => {
    for (;;) {
      const i = next++;
      const { record } = await ledger.append(saleInput(i, { idempotencyKey: `sale:kill9:${i}` }));
      say(`ACK ${record.seq} ${record.hash}`);
      if (record.seq % 50 === 0) ackAllButNewest(ledger);
    }
  };
  for (let c = 0; c < 32; c++) void caller();
}

async function main(): Promise<void> {
  if (mode === 'append') {
    const ledger = open();
    say(`READY ${ledger.stats().headSeq}`);
    appendUnderLoad(ledger);
    return;
  }
  if (mode === 'open-sync') {
    const real = createWalSync(path);
    open({
      walSync: {
        syncInherited: () => process.kill(process.pid, 'SIGKILL'),
        sync: () => real.sync(),
        close: () => real.close(),
      },
    });
    say('PHASE-DONE');
    return;
  }
  const kill = await armKiller();
  if (mode === 'open-delay' || mode === 'migration') {
    const started = process.hrtime.bigint();
    if (mode === 'open-delay') kill({ delayUs: Number(arg) });
    else kill({ file: `${path}-wal`, atLeast: Number(arg) });
    const ledger = open();
    say(`PHASE-DONE ${(process.hrtime.bigint() - started) / 1000n}`);
    appendUnderLoad(ledger);
    return;
  }
  if (mode === 'checkpoint') {
    const ledger = open();
    ledger.db.pragma('wal_autocheckpoint = 0');
    for (let i = 0; i < 20; i++) {
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, k) => ledger.append(saleInput(100_000 + i * 50 + k))),
      );
      for (const { record } of results) say(`ACK ${record.seq} ${record.hash}`);
    }
    ackAllButNewest(ledger);
    const { size } = statSync(path);
    const pageSize = ledger.db.pragma('page_size', { simple: true }) as number;
    const finalSize = (ledger.db.pragma('page_count', { simple: true }) as number) * pageSize;
    const atLeast = size + Math.max(1, Math.floor((finalSize - size) * Number(arg)));
    say(`CHECKPOINT ${size} ${finalSize}`);
    kill({ file: path, atLeast });
    ledger.db.pragma('wal_checkpoint(TRUNCATE)');
    say('PHASE-DONE');
    appendUnderLoad(ledger);
    return;
  }
  throw new Error(`unknown mode ${mode}`);
}

void main();
