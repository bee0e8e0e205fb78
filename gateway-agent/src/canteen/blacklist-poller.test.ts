import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  generateSm2KeyPair,
  holderKeyForBox,
  keyedHolderDigests,
  type SignedBlacklistUpdate,
  sealBlacklistSource,
  signBlacklistUpdate,
} from '@sceneway/cloud-sync';
import { startBankServer } from '@sceneway/cloud-sync/bank';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../clock.ts';
import { silentLogger } from '../logger.ts';
import { createBankClient } from '../sync/bank-client.ts';
import { createSyncRig, type SyncRig } from '../sync/test-support.ts';
import { openBlacklistStore } from './blacklist.ts';
import { startBlacklistPoller } from './blacklist-poller.ts';

let rig: SyncRig | undefined;
const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  await rig?.close();
  rig = undefined;
});

const issuedAt = '2026-11-29T08:00:00.000Z';

type Feed = { format: string; latestVersion: number; updates: SignedBlacklistUpdate[] };

/**
 * A real bank serving `publish`ed sources; with `tamper`, a loopback relay in front of it rewrites the
 * feed's answer (what a hostile network could do) before the box sees it.
 */
async function setUp(
  publish: (dir: string, bankPrivateKeyHex: string) => void,
  tamper?: (boxId: string, genuine: Feed) => Feed,
) {
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
  const digests = keyedHolderDigests(holderKeyForBox(rig.bankKeys.privateKeyHex, rig.boxId));
  const db = new Database(join(rig.dir, 'canteen.db'));
  closers.push(() => {
    db.close();
  });
  const store = openBlacklistStore({
    db,
    bankPublicKeyHex: rig.bankKeys.publicKeyHex,
    boxId: rig.boxId,
    holderDigests: digests,
    clock: systemClock,
    logger: silentLogger,
  });
  const alerts: string[] = [];
  const baseUrl = tamper ? await startTamperingRelay(bank.url, (feed) => tamper(rig!.boxId, feed)) : bank.url;
  const client = createBankClient({ baseUrl });
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
  return { dir, store, poller, alerts, digests };
}

async function startTamperingRelay(target: string, rewrite: (feed: Feed) => Feed): Promise<string> {
  const server = http.createServer(async (req, res) => {
    const upstream = await fetch(`${target}${req.url ?? '/'}`, {
      headers: Object.fromEntries(
        Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === 'string'),
      ),
    });
    const body = upstream.ok
      ? JSON.stringify(rewrite((await upstream.json()) as Feed))
      : await upstream.text();
    res.writeHead(upstream.status, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const write = (dir: string, name: string, value: unknown) =>
  writeFileSync(join(dir, name), JSON.stringify(value));

describe('blacklist poller', () => {
  it('fetches the full list and later deltas from the bank and applies them in order', async () => {
    const { dir, store, poller, alerts, digests } = await setUp((d, key) => {
      write(
        d,
        'v1.json',
        sealBlacklistSource({ kind: 'full', version: 1, issuedAt }, { add: ['card:04A1'], remove: [] }, key),
      );
    });
    expect(await poller.pollOnce()).toBe('updated');
    expect(store.state().version).toBe(1);
    expect(store.has(digests.card('04A1'))).toBe(true);
    expect(await poller.pollOnce()).toBe('current');

    const key = rig!.bankKeys.privateKeyHex;
    write(
      dir,
      'v2.json',
      sealBlacklistSource(
        { kind: 'delta', baseVersion: 1, version: 2, issuedAt },
        { add: ['card:04B2'], remove: [] },
        key,
      ),
    );
    write(
      dir,
      'v3.json',
      sealBlacklistSource(
        { kind: 'delta', baseVersion: 2, version: 3, issuedAt },
        { add: [], remove: ['card:04A1'] },
        key,
      ),
    );
    expect(await poller.pollOnce()).toBe('updated');
    expect(store.state()).toMatchObject({ version: 3, entries: 1 });
    expect(store.has(digests.card('04A1'))).toBe(false);
    expect(store.has(digests.card('04B2'))).toBe(true);
    expect(alerts.filter((a) => !a.startsWith('clear'))).toEqual([]);
  });

  it('refuses an update not signed by the pinned bank key: alert, and the list in force stays', async () => {
    const stranger = generateSm2KeyPair();
    // A bank (or a man in the middle) answering with a genuine full list and a forged delta.
    const { store, poller, alerts, digests } = await setUp(
      (d, key) => {
        write(
          d,
          'v1.json',
          sealBlacklistSource(
            { kind: 'full', version: 1, issuedAt },
            { add: ['card:04A1'], remove: [] },
            key,
          ),
        );
      },
      (boxId, genuine) => ({
        ...genuine,
        latestVersion: 2,
        updates: [
          ...genuine.updates,
          signBlacklistUpdate(
            {
              kind: 'delta',
              baseVersion: 1,
              version: 2,
              boxId,
              digests: 'hmac-sm3',
              issuedAt,
              add: [],
              remove: [genuine.updates[0]?.update.add[0] ?? ''],
            },
            stranger.privateKeyHex,
          ),
        ],
      }),
    );
    expect(await poller.pollOnce()).toBe('refused');
    expect(store.state().version).toBe(1); // the genuine full list applied, the forged delta not
    expect(store.has(digests.card('04A1'))).toBe(true);
    expect(alerts.at(-1)).toMatch(/^CANTEEN_BLACKLIST_UPDATE: .*CANTEEN_BLACKLIST_SIGNATURE/);
  });
});
