import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSm2KeyPair, signBlacklistUpdate } from '@sceneway/cloud-sync';
import { startBankServer } from '@sceneway/cloud-sync/bank';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../clock.ts';
import { silentLogger } from '../logger.ts';
import { createBankClient } from '../sync/bank-client.ts';
import { createSyncRig, type SyncRig } from '../sync/test-support.ts';
import { openBlacklistStore } from './blacklist.ts';
import { startBlacklistPoller } from './blacklist-poller.ts';
import { cardHolderDigest } from './holder-digest.ts';

let rig: SyncRig | undefined;
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await rig?.close();
  rig = undefined;
});

const issuedAt = '2026-11-29T08:00:00.000Z';

async function setUp(publish: (dir: string, bankPrivateKeyHex: string) => void) {
  rig = await createSyncRig({ enrol: false });
  const dir = join(rig.dir, 'bank-blacklist');
  mkdirSync(dir);
  publish(dir, rig.bankKeys.privateKeyHex);
  const bank = await startBankServer({
    bankPrivateKeyHex: rig.bankKeys.privateKeyHex,
    dbPath: join(rig.dir, 'bank.db'),
    logLevel: 'silent',
    blacklistDir: dir,
  });
  closers.push(() => bank.close());
  await bank.store.enrolBox({
    boxId: rig.boxId,
    siteId: 'site-1',
    publicKeyHex: rig.boxKeys.publicKeyHex,
    enrolledAt: new Date().toISOString(),
  });
  const db = new Database(join(rig.dir, 'canteen.db'));
  closers.push(() => {
    db.close();
  });
  const store = openBlacklistStore({
    db,
    bankPublicKeyHex: rig.bankKeys.publicKeyHex,
    clock: systemClock,
    logger: silentLogger,
  });
  const alerts: string[] = [];
  const client = createBankClient({ baseUrl: bank.url });
  const poller = startBlacklistPoller({
    client,
    boxId: rig.boxId,
    boxPrivateKeyHex: rig.boxKeys.privateKeyHex,
    // Rounds are driven by the test alone: a scheduled round landing between two pollOnce calls (a
    // loaded machine) would apply the test's next update first and make its pollOnce answer 'current'.
    intervalMs: 3_600_000,
    firstRoundMs: 3_600_000,
    clock: systemClock,
    logger: silentLogger,
    alerts: { raise: (a) => alerts.push(`${a.code}: ${a.message}`), clear: (c) => alerts.push(`clear ${c}`) },
    currentVersion: () => store.state().version,
    apply: (signed) => store.apply(signed),
  });
  closers.push(() => {
    poller.stop();
    client.close();
  });
  return { dir, store, poller, alerts };
}

const write = (dir: string, name: string, value: unknown) =>
  writeFileSync(join(dir, name), JSON.stringify(value));

describe('blacklist poller', () => {
  it('fetches the full list and later deltas from the bank and applies them in order', async () => {
    const { dir, store, poller, alerts } = await setUp((d, key) => {
      write(
        d,
        'v1.json',
        signBlacklistUpdate(
          { kind: 'full', version: 1, issuedAt, add: [cardHolderDigest('04A1')], remove: [] },
          key,
        ),
      );
    });
    expect(await poller.pollOnce()).toBe('updated');
    expect(store.state().version).toBe(1);
    expect(store.has(cardHolderDigest('04A1'))).toBe(true);
    expect(await poller.pollOnce()).toBe('current');

    const key = rig!.bankKeys.privateKeyHex;
    write(
      dir,
      'v2.json',
      signBlacklistUpdate(
        { kind: 'delta', baseVersion: 1, version: 2, issuedAt, add: [cardHolderDigest('04B2')], remove: [] },
        key,
      ),
    );
    write(
      dir,
      'v3.json',
      signBlacklistUpdate(
        { kind: 'delta', baseVersion: 2, version: 3, issuedAt, add: [], remove: [cardHolderDigest('04A1')] },
        key,
      ),
    );
    expect(await poller.pollOnce()).toBe('updated');
    expect(store.state()).toMatchObject({ version: 3, entries: 1 });
    expect(store.has(cardHolderDigest('04A1'))).toBe(false);
    expect(store.has(cardHolderDigest('04B2'))).toBe(true);
    expect(alerts.filter((a) => !a.startsWith('clear'))).toEqual([]);
  });

  it('refuses an update not signed by the pinned bank key: alert, and the list in force stays', async () => {
    const stranger = generateSm2KeyPair();
    const { store, poller, alerts } = await setUp((d, key) => {
      write(
        d,
        'v1.json',
        signBlacklistUpdate(
          { kind: 'full', version: 1, issuedAt, add: [cardHolderDigest('04A1')], remove: [] },
          key,
        ),
      );
      write(
        d,
        'v2.json',
        signBlacklistUpdate(
          {
            kind: 'delta',
            baseVersion: 1,
            version: 2,
            issuedAt,
            add: [],
            remove: [cardHolderDigest('04A1')],
          },
          stranger.privateKeyHex,
        ),
      );
    });
    expect(await poller.pollOnce()).toBe('refused');
    expect(store.state().version).toBe(1); // the genuine full list applied, the forged delta not
    expect(store.has(cardHolderDigest('04A1'))).toBe(true);
    expect(alerts.at(-1)).toMatch(/^CANTEEN_BLACKLIST_UPDATE: .*CANTEEN_BLACKLIST_SIGNATURE/);
  });
});
