import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropTestPgSchema, requireTestPg, TEST_PG_URL, testPgSchema } from '@sceneway/cloud-sync/testing';
import { openLedger, verifyLedgerFile } from '@sceneway/gateway-agent';
import {
  createSyncRig,
  type SyncRig,
  saleInput,
  TEST_DATA_KEY,
  waitFor,
} from '@sceneway/gateway-agent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { FAULT_KINDS } from '../fault-proxy/fault-plan.ts';
import { type FaultProxy, startFaultProxy } from '../fault-proxy/fault-proxy.ts';
import { seededRandom } from '../fault-proxy/seeded-random.ts';

/** Every fault kind at once: about two requests in three go wrong somewhere. */
const ALL_FAULTS = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0.08])) as Record<
  (typeof FAULT_KINDS)[number],
  number
>;

let rig: SyncRig | undefined;
let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await rig?.close();
  rig = undefined;
  proxy = undefined;
});

async function expectBankHoldsLedgerExactly(r: SyncRig, ledgerPath: string) {
  const stats = r.ledger.stats();
  expect(stats.unsyncedCount).toBe(0);
  expect(await r.bank!.store.recordCount(r.boxId)).toBe(stats.headSeq);
  expect(await r.bank!.store.getBox(r.boxId)).toMatchObject({
    headSeq: stats.headSeq,
    headHash: stats.headHash,
  });
  expect(verifyLedgerFile(ledgerPath)).toMatchObject({ ok: true, records: stats.headSeq });
}

let pgSchema: string | undefined;
afterEach(async () => {
  if (pgSchema) await dropTestPgSchema(pgSchema);
  pgSchema = undefined;
});

describe('exactly once under faults (real uploader, fault proxy, reference bank)', () => {
  // PostgreSQL too: there the bank inserts a batch while it still checks it (bank/ingest.ts), and the
  // proxy's duplicated and resent requests race on the same box row.
  it.each([
    ['SQLite', false],
    ['PostgreSQL', true],
  ])(
    'delivers thousands of records through every fault kind into a bank on %s: each stored once, all synced, chains equal',
    async (_name, onPostgres) => {
      if (onPostgres) await requireTestPg();
      rig = await createSyncRig();
      if (onPostgres) pgSchema = testPgSchema('exactly_once');
      const bank = await rig.startBank(0, pgSchema ? { url: TEST_PG_URL, schema: pgSchema } : undefined);
      proxy = await startFaultProxy({
        target: bank.url,
        plan: { ...ALL_FAULTS, delayMs: 20 },
        seed: 20261129,
      });
      const uploader = rig.uploader({
        bankUrl: proxy.url,
        limits: { maxRecords: 40, maxBytes: 1 << 20, maxAgeMs: 0, backoffBaseMs: 2, backoffCapMs: 20 },
      });
      uploader.start();
      // Sales keep arriving while batches fail and are resent.
      for (let wave = 0; wave < 6; wave++) {
        await Promise.all(
          Array.from({ length: 500 }, (_, i) => rig!.ledger.append(saleInput(wave * 500 + i))),
        );
        await new Promise((r) => setTimeout(r, 50));
      }
      await waitFor(() => rig!.ledger.stats().unsyncedCount === 0, 'all 3000 records acknowledged', 120_000);
      await uploader.stop();
      const stats = proxy.stats();
      for (const kind of FAULT_KINDS) expect(stats[kind], `fault ${kind} happened`).toBeGreaterThan(0);
      await expectBankHoldsLedgerExactly(rig, join(rig.dir, 'ledger.db'));
    },
    150_000,
  );

  it('stays exactly once when the box is SIGKILLed mid-upload and restarted', async () => {
    rig = await createSyncRig();
    const bank = await rig.startBank();
    proxy = await startFaultProxy({ target: bank.url, plan: { ...ALL_FAULTS, delayMs: 10 }, seed: 7 });
    const ledgerPath = join(rig.dir, 'ledger.db');
    // The child process owns the ledger file while it runs: close the rig's handle first.
    await rig.ledger.close();
    const keys = JSON.stringify({
      boxId: rig.boxId,
      boxPrivateKeyHex: rig.boxKeys.privateKeyHex,
      bankPublicKeyHex: rig.bankKeys.publicKeyHex,
    });
    const child = fileURLToPath(new URL('./upload-child.ts', import.meta.url));
    // The kill moments are seeded and the seed printed, so a failing run can be replayed.
    const killSeed = Number(process.env.SCENEWAY_KILL_SEED ?? Date.now() % 2 ** 31);
    console.info(`exactly-once kill test: SCENEWAY_KILL_SEED=${killSeed}`);
    const killAfter = seededRandom(killSeed);
    let kills = 0;
    for (let run = 0; run < 6; run++) {
      await new Promise<void>((resolve, reject) => {
        const p = spawn(process.execPath, ['--import', 'tsx', child, ledgerPath, proxy!.url, keys, '400'], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        p.stderr.on('data', (c: Buffer) => {
          err += c.toString();
        });
        p.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          // Kill at a random moment after uploading started (some acks in, more in flight).
          if (/ACKED/.test(out) && !p.killed)
            setTimeout(() => p.kill('SIGKILL'), Math.floor(killAfter.next() * 60));
        });
        p.on('exit', (_code, signal) => {
          if (signal === 'SIGKILL') {
            kills++;
            resolve();
          } else reject(new Error(`upload child exited on its own: ${err.slice(-400)}`));
        });
      });
    }
    expect(kills).toBe(6);
    // Restart once more in-process and let it drain.
    const ledger = openLedger({ path: ledgerPath, boxId: rig.boxId, dataKey: TEST_DATA_KEY });
    Object.assign(rig, { ledger });
    const uploader = rig.uploader({
      bankUrl: proxy.url,
      limits: { maxRecords: 50, maxBytes: 1 << 20, maxAgeMs: 0, backoffBaseMs: 2, backoffCapMs: 20 },
    });
    uploader.start();
    await ledger.append(saleInput(999_999));
    await waitFor(() => ledger.stats().unsyncedCount === 0, 'the backlog to drain after the kills', 120_000);
    await uploader.stop();
    expect(ledger.stats().headSeq).toBe(6 * 400 + 1);
    await expectBankHoldsLedgerExactly(rig, ledgerPath);
  }, 150_000);
});
