import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { chainFieldsOf, chainHash } from '../cloud-sync/src/chain/record-chain.ts';
import { generateSm2KeyPair } from '../cloud-sync/src/crypto/sm2.ts';
import { systemClock } from '../gateway-agent/src/clock.ts';
import { openLedger } from '../gateway-agent/src/ledger/ledger.ts';
import {
  RAW_RECORD_COLUMNS_SQL,
  type RawRecordRow,
  recordFromRawRow,
} from '../gateway-agent/src/ledger/record-row.ts';
import { saleInput, TEST_DATA_KEY } from '../gateway-agent/src/ledger/test-support.ts';
import { silentLogger } from '../gateway-agent/src/logger.ts';
import { batchWorkerBundle, workerBatchBuilder } from '../gateway-agent/src/sync/batch-builder.ts';
import { createUploader } from '../gateway-agent/src/sync/uploader.ts';
import { spawnBankProcess } from './support/bank-process.ts';

/**
 * Draining a backlog of N records (default 1,000,000, each with a card number) from a box ledger into
 * the reference bank, end to end: batch build (SM4 per record, SM2 key envelope, SM2 signature), HTTP,
 * bank verification (signatures, every record hash and link, PII opened and digest-checked), storage,
 * signed ack, box marks synced. The bank runs in its own process (its own core, as on two machines),
 * with the per-box rate limit raised to let the pipeline, not the limiter, set the pace.
 * Baseline in the same run: reading the same rows and SM3-hashing them (the floor for any chained sync).
 */
const N = Number(process.env.BENCH_SYNC_RECORDS ?? 1_000_000);
const BATCH = Number(process.env.BENCH_SYNC_BATCH ?? 2000);
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const BOX = 'bench-sync-box';

/**
 * CPU seconds used so far by the local PostgreSQL server's processes (utime + stime from /proc), so the
 * PostgreSQL drain can say how much the database itself costs per record on this shared machine.
 */
function postgresCpuSeconds(): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (!stat.slice(stat.indexOf('(') + 1, close).startsWith('postgres')) continue;
      const fields = stat.slice(close + 2).split(' ');
      // utime, stime, cutime, cstime (stat fields 14-17): a backend that has exited is counted in the
      // postmaster's cutime, so a connection closed between two readings is not lost.
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // the process ended while we read
    }
  }
  return ticks / 100; // USER_HZ
}

async function buildBacklog(path: string): Promise<number> {
  const ledger = openLedger({ path, boxId: BOX, dataKey: TEST_DATA_KEY, maxGroupSize: 5000 });
  const t0 = performance.now();
  const chunk = 5000;
  for (let at = 0; at < N; at += chunk) {
    const n = Math.min(chunk, N - at);
    await Promise.all(Array.from({ length: n }, (_, i) => ledger.append(saleInput(at + i))));
    if ((at / chunk) % 40 === 0) process.stdout.write(`  backlog ${at + n}/${N}\n`);
  }
  const seconds = (performance.now() - t0) / 1000;
  await ledger.close();
  return N / seconds;
}

function readAndHashBaseline(path: string): number {
  const db = new Database(path, { readonly: true });
  const t0 = performance.now();
  let n = 0;
  const rows = db
    .prepare(`SELECT ${RAW_RECORD_COLUMNS_SQL} FROM outbox o JOIN records r USING (seq) ORDER BY seq`)
    .raw(true)
    .iterate() as IterableIterator<RawRecordRow>;
  for (const row of rows) {
    chainHash(chainFieldsOf(recordFromRawRow(row)));
    n++;
  }
  const seconds = (performance.now() - t0) / 1000;
  db.close();
  return n / seconds;
}

async function drain(ledgerPath: string, store: { dbPath?: string; pgUrl?: string; pgSchema?: string }) {
  const boxKeys = generateSm2KeyPair();
  const bankKeys = generateSm2KeyPair();
  const bank = await spawnBankProcess({
    bankPrivateKeyHex: bankKeys.privateKeyHex,
    ...store,
    enrol: { boxId: BOX, publicKeyHex: boxKeys.publicKeyHex },
    ratePerSec: 10_000,
    burst: 10_000,
  });
  const ledger = openLedger({ path: ledgerPath, boxId: BOX, dataKey: TEST_DATA_KEY });
  // Batches are built on the worker thread, as the agent builds them (`npm run bench` bundles it first).
  const workerPath = batchWorkerBundle();
  if (!workerPath) throw new Error('the batch worker bundle is missing: run `npm run build` first');
  const keys = { boxPrivateKeyHex: boxKeys.privateKeyHex, bankPublicKeyHex: bankKeys.publicKeyHex };
  const uploader = createUploader({
    ledger,
    builder: workerBatchBuilder(workerPath, { ledgerPath, dataKey: ledger.dataKey, keys }),
    boxId: BOX,
    boxPrivateKeyHex: boxKeys.privateKeyHex,
    bankPublicKeyHex: bankKeys.publicKeyHex,
    bankUrl: bank.url,
    limits: {
      maxRecords: BATCH,
      maxBytes: 64 * 1024 * 1024,
      maxAgeMs: 0,
      backoffBaseMs: 50,
      backoffCapMs: 1000,
    },
    clock: systemClock,
    logger: silentLogger,
  });
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  uploader.start();
  let lastReport = t0;
  while (ledger.stats().unsyncedCount > 0) {
    await new Promise((r) => setTimeout(r, 50));
    if (performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      process.stdout.write(`  drained ${N - ledger.stats().unsyncedCount}/${N}\n`);
    }
    if (uploader.status().state === 'stopped')
      throw new Error(`uploader stopped: ${uploader.status().lastError?.code}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  await uploader.stop();
  await ledger.close();
  const bankCpu = await bank.stop();
  // CPU per record on each side: steadier than wall time on a shared VM, and it says which side limits.
  return {
    seconds,
    recordsPerSec: N / seconds,
    boxCpuUsPerRecord: (cpu.user + cpu.system) / N,
    bankCpuUsPerRecord: (bankCpu.cpuSeconds * 1e6) / N,
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-bench-sync-'));
  try {
    const backlog = join(dir, 'backlog.db');
    process.stdout.write(`building a backlog of ${N} records...\n`);
    const appendPerSec = await buildBacklog(backlog);
    const baselinePerSec = readAndHashBaseline(backlog);
    const results: Record<
      string,
      (Awaited<ReturnType<typeof drain>> & { databaseCpuUsPerRecord?: number }) | { skipped: string }
    > = {};

    copyFileSync(backlog, join(dir, 'box-sqlite.db'));
    process.stdout.write('draining into the bank on SQLite...\n');
    results.sqlite = await drain(join(dir, 'box-sqlite.db'), { dbPath: join(dir, 'bank.db') });

    const schema = `bench_sync_${Date.now()}`;
    const client = new pg.Client({ connectionString: PG_URL });
    try {
      await client.connect();
      copyFileSync(backlog, join(dir, 'box-pg.db'));
      process.stdout.write('draining into the bank on PostgreSQL...\n');
      const pgCpu0 = postgresCpuSeconds();
      const drained = await drain(join(dir, 'box-pg.db'), { pgUrl: PG_URL, pgSchema: schema });
      results.postgres = { ...drained, databaseCpuUsPerRecord: ((postgresCpuSeconds() - pgCpu0) * 1e6) / N };
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    } catch (err) {
      results.postgres = { skipped: (err as Error).message };
    } finally {
      await client.end().catch(() => {});
    }

    const rows: string[][] = [
      [
        'measure',
        'records/s',
        'seconds',
        'ratio to baseline',
        'box CPU µs/rec',
        'bank CPU µs/rec',
        'db CPU µs/rec',
      ],
    ];
    rows.push([
      'baseline: read rows + SM3 chain hash',
      baselinePerSec.toFixed(0),
      (N / baselinePerSec).toFixed(1),
      '1.00',
      (1e6 / baselinePerSec).toFixed(1),
      '',
      '',
    ]);
    for (const [name, r] of Object.entries(results)) {
      if ('skipped' in r) rows.push([`drain to bank (${name})`, 'skipped', r.skipped, '', '', '', '']);
      else
        rows.push([
          `drain to bank (${name})`,
          r.recordsPerSec.toFixed(0),
          r.seconds.toFixed(1),
          (r.recordsPerSec / baselinePerSec).toFixed(3),
          r.boxCpuUsPerRecord.toFixed(1),
          r.bankCpuUsPerRecord.toFixed(1),
          r.databaseCpuUsPerRecord?.toFixed(1) ?? '(in bank)',
        ]);
    }
    for (const r of rows)
      process.stdout.write(
        `${r[0]!.padEnd(40)} ${r[1]!.padStart(10)} ${r[2]!.padStart(10)} ${r[3]!.padStart(18)} ${r[4]!.padStart(15)} ${r[5]!.padStart(15)} ${r[6]!.padStart(13)}\n`,
      );
    return {
      records: N,
      batchRecords: BATCH,
      backlogAppendPerSec: appendPerSec,
      baseline: { readAndSm3PerSec: baselinePerSec },
      drains: results,
      goal: { seconds: 60, met: Object.values(results).every((r) => 'seconds' in r && r.seconds <= 60) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
