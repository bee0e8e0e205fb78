import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../gateway-error.ts';
import { openTempLedger, tempLedgerFile } from '../ledger/temp-ledger.ts';
import { silentLogger } from '../logger.ts';
import { type BlacklistUpdate, openBlacklistStore, signBlacklistUpdate } from './blacklist.ts';
import { cardHolderDigest } from './holder-digest.ts';
import { BANK, NOON, OTHER_KEY } from './test-support.ts';

const A = cardHolderDigest('04A1B2C3D4E5F6');
const B = cardHolderDigest('11223344');
const C = cardHolderDigest('55667788');

function open(path = tempLedgerFile('blacklist-')) {
  const ledger = openTempLedger({ path });
  const store = openBlacklistStore({
    db: ledger.db,
    bankPublicKeyHex: BANK.publicKeyHex,
    clock: { now: () => NOON },
    logger: silentLogger,
  });
  return { store, ledger, path };
}

const full = (version: number, add: string[]): BlacklistUpdate => ({
  kind: 'full',
  version,
  issuedAt: '2026-03-01T00:00:00Z',
  add,
  remove: [],
});
const delta = (baseVersion: number, version: number, add: string[], remove: string[]): BlacklistUpdate => ({
  kind: 'delta',
  baseVersion,
  version,
  issuedAt: '2026-03-01T01:00:00Z',
  add,
  remove,
});
const signed = (u: BlacklistUpdate) => signBlacklistUpdate(u, BANK.privateKeyHex);

function codeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    return isGatewayError(e) ? e.code : String(e);
  }
}

describe('canteen blacklist', () => {
  it('applies a signed full list and deltas on top, and keeps them across a restart', async () => {
    const { store, ledger, path } = open();
    expect(store.state().version).toBe(0);
    expect(store.apply(signed(full(1, [A, B])))).toMatchObject({ version: 1, entries: 2 });
    expect(store.apply(JSON.stringify(signed(delta(1, 2, [C], [B]))))).toMatchObject({
      version: 2,
      entries: 2,
    });
    expect([store.has(A), store.has(B), store.has(C)]).toEqual([true, false, true]);
    await ledger.close();
    const again = open(path);
    expect(again.store.state()).toMatchObject({ version: 2, entries: 2, issuedAt: '2026-03-01T01:00:00Z' });
    expect(again.store.has(C)).toBe(true);
  });

  it('stores SM3 digests only, never a card UID in clear', () => {
    const { store, ledger } = open();
    store.apply(signed(full(1, [A])));
    const rows = ledger.db.prepare('SELECT digest FROM canteen_blacklist').pluck().all();
    expect(rows).toEqual([A]);
    expect(JSON.stringify(rows)).not.toContain('04A1B2C3D4E5F6');
  });

  it('refuses an update signed by another key, or altered after signing, and keeps the old list', () => {
    const { store } = open();
    store.apply(signed(full(1, [A])));
    const forged = signBlacklistUpdate(full(2, []), OTHER_KEY.privateKeyHex);
    expect(codeOf(() => store.apply(forged))).toBe('CANTEEN_BLACKLIST_SIGNATURE');
    const tampered = signed(delta(1, 2, [], []));
    tampered.update.remove.push(A);
    expect(codeOf(() => store.apply(tampered))).toBe('CANTEEN_BLACKLIST_SIGNATURE');
    expect(store.state()).toMatchObject({ version: 1, entries: 1 });
    expect(store.has(A)).toBe(true);
  });

  it('refuses a delta that does not start at the current version, and an older full list', () => {
    const { store } = open();
    expect(codeOf(() => store.apply(signed(delta(0, 1, [A], []))))).toBe('CANTEEN_BLACKLIST_VERSION');
    store.apply(signed(full(3, [A])));
    expect(codeOf(() => store.apply(signed(delta(2, 4, [], [A]))))).toBe('CANTEEN_BLACKLIST_VERSION');
    expect(codeOf(() => store.apply(signed(full(2, []))))).toBe('CANTEEN_BLACKLIST_VERSION');
    expect(codeOf(() => store.apply(signed(full(3, [B]))))).toBe('CANTEEN_BLACKLIST_VERSION');
    expect(store.state()).toMatchObject({ version: 3, entries: 1 });
    expect(store.has(A)).toBe(true);
  });

  it('treats the same update delivered twice as a no-op', () => {
    const { store } = open();
    const update = signed(full(1, [A]));
    store.apply(update);
    expect(store.apply(Buffer.from(JSON.stringify(update)))).toMatchObject({ version: 1, entries: 1 });
  });

  it('refuses malformed updates with a field name', () => {
    const { store } = open();
    expect(codeOf(() => store.apply('{not json'))).toBe('CANTEEN_BLACKLIST_MALFORMED');
    const bad = { ...signed(full(1, [A])), update: { ...full(1, ['04A1B2C3']) } };
    expect(() => store.apply(bad)).toThrow(/update\.add\.0/);
    expect(codeOf(() => store.apply({ ...signed(full(1, [A])), format: 'other' }))).toBe(
      'CANTEEN_BLACKLIST_MALFORMED',
    );
    expect(() => signBlacklistUpdate({ ...full(1, [A]), remove: [B] }, BANK.privateKeyHex)).toThrow();
  });
});
