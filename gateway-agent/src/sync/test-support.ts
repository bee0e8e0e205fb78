import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSm2KeyPair, type Sm2KeyPair } from '@sceneway/cloud-sync';
import { type BankServer, startBankServer } from '@sceneway/cloud-sync/bank';
import { systemClock } from '../clock.ts';
import { openLedger, type SqliteLedger } from '../ledger/ledger.ts';
import { TEST_DATA_KEY } from '../ledger/test-support.ts';
import { silentLogger } from '../logger.ts';
import { createUploader, type UploaderOptions } from './uploader.ts';

/** A box (keys + ledger) and a reference bank in temp dirs, for sync tests. Tests only. */
export interface SyncRig {
  dir: string;
  boxId: string;
  boxKeys: Sm2KeyPair;
  bankKeys: Sm2KeyPair;
  ledger: SqliteLedger;
  bank: BankServer | null;
  /** Starts the reference bank on SQLite in `dir`, or on PostgreSQL when `pg` is given. */
  startBank(port?: number, pg?: { url: string; schema: string }): Promise<BankServer>;
  uploader(overrides?: Partial<UploaderOptions>): ReturnType<typeof createUploader>;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function createSyncRig(options: { enrol?: boolean; boxId?: string } = {}): Promise<SyncRig> {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-sync-'));
  const boxId = options.boxId ?? 'box-sync';
  const boxKeys = generateSm2KeyPair();
  const bankKeys = generateSm2KeyPair();
  const ledger = openLedger({ path: join(dir, 'ledger.db'), boxId, dataKey: TEST_DATA_KEY });
  const rig: SyncRig = {
    dir,
    boxId,
    boxKeys,
    bankKeys,
    ledger,
    bank: null,
    async startBank(port = 0, pg) {
      const bank = await startBankServer({
        bankPrivateKeyHex: bankKeys.privateKeyHex,
        ...(pg ? { pgUrl: pg.url, pgSchema: pg.schema } : { dbPath: join(dir, 'bank.db') }),
        port,
        logLevel: 'silent',
      });
      if (options.enrol !== false) {
        await bank.store
          .enrolBox({
            boxId,
            siteId: 'site-1',
            publicKeyHex: boxKeys.publicKeyHex,
            enrolledAt: new Date().toISOString(),
          })
          .catch(() => {});
      }
      rig.bank = bank;
      return bank;
    },
    uploader(overrides = {}) {
      return createUploader({
        ledger: rig.ledger,
        boxId,
        boxPrivateKeyHex: boxKeys.privateKeyHex,
        bankPublicKeyHex: bankKeys.publicKeyHex,
        bankUrl: rig.bank?.url ?? 'http://127.0.0.1:9',
        limits: { maxRecords: 100, maxBytes: 1024 * 1024, maxAgeMs: 0, backoffBaseMs: 20, backoffCapMs: 200 },
        clock: systemClock,
        logger: silentLogger,
        ...overrides,
      });
    },
    async close() {
      await rig.bank?.close();
      await rig.ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return rig;
}

export { waitFor } from '../test-support/wait-for.ts';
