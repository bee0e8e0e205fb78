import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { type GatewayError, isGatewayError } from '../gateway-error.ts';
import { deferred } from '../test-support/deferred.ts';
import { openLedger } from './ledger.ts';
import { saleInput, TEST_DATA_KEY, tempLedgerPath } from './test-support.ts';
import { verifyLedgerFile, writeMeta } from './verify-ledger.ts';
import { createWalSync, type WalSync } from './wal-sync.ts';

const SCENEWAY = fileURLToPath(new URL('../../bin/sceneway.js', import.meta.url));
const paths: string[] = [];
afterEach(() => {
  for (const path of paths.splice(0)) rmSync(dirname(path), { recursive: true, force: true });
});

function newPath(): string {
  const path = tempLedgerPath('durability-');
  paths.push(path);
  return path;
}

const open = (path: string, extra: Partial<Parameters<typeof openLedger>[0]> = {}) =>
  openLedger({ path, boxId: 'box-1', dataKey: TEST_DATA_KEY, ...extra });

/** A WalSync whose syncs fail like a dying disk; counts the fsyncs tried. */
function failingWalSync(): WalSync & { syncs: number } {
  const seam = {
    syncs: 0,
    syncInherited() {},
    async sync() {
      seam.syncs++;
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    },
    async close() {},
  };
  return seam;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('ledger durability: durable before ack', () => {
  it('acknowledges an append only after the WAL sync that covers its commit has completed', async () => {
    const path = newPath();
    const real = createWalSync(path);
    const entered = deferred<void>();
    const gate = deferred<void>();
    let syncs = 0;
    const ledger = open(path, {
      walSync: {
        syncInherited: () => real.syncInherited(),
        sync: async () => {
          syncs++;
          entered.resolve();
          await gate.promise;
          await real.sync();
        },
        close: () => real.close(),
      },
    });
    let acked = false;
    const append = ledger.append(saleInput(1)).then((r) => {
      acked = true;
      return r;
    });
    await entered.promise;
    // Committed (another connection sees it) but not acknowledged while the sync is held back.
    const reader = new Database(path, { readonly: true });
    expect(reader.prepare('SELECT count(*) FROM records').pluck().get()).toBe(1);
    reader.close();
    expect(syncs).toBe(1);
    expect(acked).toBe(false);
    gate.resolve();
    expect((await append).record.seq).toBe(1);
    await ledger.close();
  });
});

describe('ledger durability: the file inherited from a crash', () => {
  it('fsyncs the database and the inherited WAL before openLedger returns (before any decision is read)', async () => {
    const path = newPath();
    const first = open(path);
    await first.append(saleInput(1, { idempotencyKey: 'sale:pos-1:1' }));
    // The crash: the files as a killed agent leaves them, the -wal still holding the commit.
    const crashed = newPath();
    copyFileSync(path, crashed);
    copyFileSync(`${path}-wal`, `${crashed}-wal`);
    await first.close();

    const events: string[] = [];
    const ledger = open(crashed, {
      walSync: createWalSync(crashed, {
        fsyncPathNow: (p) => events.push(`fsync ${p.replace(dirname(crashed), '<dir>')}`),
      }),
    });
    events.push('opened');
    expect(ledger.findByIdempotencyKey('sale:pos-1:1')?.seq).toBe(1);
    expect(events).toEqual(['fsync <dir>/ledger.db', 'fsync <dir>/ledger.db-wal', 'fsync <dir>', 'opened']);
    await ledger.close();
  });

  it('refuses to open (LEDGER_SYNC_FAILED) when the inherited files cannot be synced', () => {
    const path = newPath();
    const walSync = failingWalSync();
    walSync.syncInherited = () => {
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    };
    let error: unknown;
    try {
      open(path, { walSync });
    } catch (e) {
      error = e;
    }
    expect(isGatewayError(error, 'LEDGER_SYNC_FAILED')).toBe(true);
  });
});

describe('ledger durability: a failed fsync is fatal', () => {
  it('refuses every further write, never fsyncs again, raises the alert and tells the agent once', async () => {
    const path = newPath();
    const walSync = failingWalSync();
    const alerts: string[] = [];
    const fatal: GatewayError[] = [];
    const ledger = open(path, {
      walSync,
      alerts: { raise: (a) => alerts.push(a.code), clear: () => {} },
      onFatal: (error) => fatal.push(error),
    });
    // The group committed, its fsync failed: the caller is not told anything but the fatal error.
    expect(await rejection(ledger.append(saleInput(1)))).toMatchObject({ code: 'LEDGER_SYNC_FAILED' });
    expect(ledger.findByIdempotencyKey('none')).toBeNull();
    expect(fatal.map((e) => e.code)).toEqual(['LEDGER_SYNC_FAILED']);
    expect(alerts).toEqual(['LEDGER_SYNC_FAILED']);
    expect(ledger.fatal?.code).toBe('LEDGER_SYNC_FAILED');

    expect(await rejection(ledger.append(saleInput(2)))).toMatchObject({ code: 'LEDGER_SYNC_FAILED' });
    expect(await rejection(ledger.durable())).toMatchObject({ code: 'LEDGER_SYNC_FAILED' });
    // Scenario tables and the outbox share the file: their writes are refused too.
    expect(() => writeMeta(ledger.db, 'probe', '1')).toThrow(/readonly|query_only/i);
    expect(walSync.syncs).toBe(1);
    expect(fatal).toHaveLength(1);
    expect(ledger.stats().headSeq).toBe(1);
    await ledger.close();
  });
});

describe('ledger durability: a tail missing below a watermark', () => {
  async function ledgerWithSyncedWatermark(path: string, records: number, syncedSeq: number) {
    const ledger = open(path);
    for (let i = 1; i <= records; i++) await ledger.append(saleInput(i));
    const synced = ledger.db.prepare('SELECT hash FROM records WHERE seq = ?').pluck().get(syncedSeq);
    writeMeta(ledger.db, 'synced_seq', String(syncedSeq));
    writeMeta(ledger.db, 'synced_hash', String(synced));
    await ledger.close();
  }

  function deleteFrom(path: string, seq: number) {
    const db = new Database(path);
    db.prepare('DELETE FROM outbox WHERE seq >= ?').run(seq);
    db.prepare('DELETE FROM records WHERE seq >= ?').run(seq);
    db.close();
  }

  it('ledger verify and the boot check refuse a ledger whose head is below the synced watermark', async () => {
    const path = newPath();
    await ledgerWithSyncedWatermark(path, 10, 8);
    // Only the synced watermark may witness here: the boot's verified checkpoint is removed too.
    const db = new Database(path);
    db.prepare("DELETE FROM meta WHERE key = 'verified_seq' OR key = 'verified_hash'").run();
    db.close();
    deleteFrom(path, 6);

    const verified = verifyLedgerFile(path);
    expect(verified.ok).toBe(false);
    expect(verified.chainBreak).toBeNull(); // what is left still chains: only the watermark can tell
    expect(verified.tailMissing).toMatchObject({ headSeq: 5, expectedSeq: 8 });
    expect(verified.tailMissing?.reason).toMatch(/synced_seq/);
    const cli = spawnSync(process.execPath, [SCENEWAY, 'ledger', 'verify', '--db', path], {
      encoding: 'utf8',
    });
    expect(cli.status).toBe(1);
    expect(JSON.parse(cli.stdout)).toMatchObject({ ok: false, tailMissing: { headSeq: 5, expectedSeq: 8 } });

    const alerts: string[] = [];
    let error: unknown;
    try {
      open(path, { alerts: { raise: (a) => alerts.push(a.code), clear: () => {} } });
    } catch (e) {
      error = e;
    }
    expect(isGatewayError(error, 'LEDGER_TAIL_MISSING')).toBe(true);
    expect((error as Error).message).toMatch(/ends at record 5, below record 8/);
    expect(alerts).toEqual(['LEDGER_TAIL_MISSING']);
    // Left in place, not quarantined: a restart must refuse again, never start a fresh chain.
    expect(existsSync(path)).toBe(true);
  });

  it('the boot check also refuses a head below what an earlier boot verified', async () => {
    const path = newPath();
    await ledgerWithSyncedWatermark(path, 10, 2);
    await open(path).close(); // verified_seq = 10
    deleteFrom(path, 7);
    let error: unknown;
    try {
      open(path);
    } catch (e) {
      error = e;
    }
    expect(isGatewayError(error, 'LEDGER_TAIL_MISSING')).toBe(true);
    expect(verifyLedgerFile(path).tailMissing?.reason).toMatch(/verified_seq/);
  });

  it('a ledger whose tail was cut and re-appended breaks at the synced watermark', async () => {
    const path = newPath();
    await ledgerWithSyncedWatermark(path, 10, 8);
    deleteFrom(path, 6);
    const db = new Database(path);
    db.prepare("DELETE FROM meta WHERE key = 'verified_seq' OR key = 'verified_hash'").run();
    db.prepare("UPDATE meta SET value = '0' WHERE key = 'synced_seq'").run();
    db.close();
    const ledger = open(path); // the watermark hidden: the box appends seqs 6.. again
    for (let i = 100; i < 105; i++) await ledger.append(saleInput(i));
    await ledger.close();
    const restore = new Database(path);
    writeMeta(restore, 'synced_seq', '8');
    restore.close();
    expect(verifyLedgerFile(path)).toMatchObject({ ok: false, chainBreak: { seq: 8 } });
  });
});
