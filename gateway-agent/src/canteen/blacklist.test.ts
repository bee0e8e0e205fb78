import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../gateway-error.ts';
import { openTempLedger, tempLedgerFile } from '../ledger/temp-ledger.ts';
import { silentLogger } from '../logger.ts';
import { type BlacklistUpdate, openBlacklistStore } from './blacklist.ts';
import { type HolderDigests, keyedHolderDigests, legacyHolderDigests } from './holder-digest.ts';
import { BANK, BOX_ID, DIGESTS, NOON, OTHER_KEY, signedForBox } from './test-support.ts';

const A = DIGESTS.card('04A1B2C3D4E5F6');
const B = DIGESTS.card('11223344');
const C = DIGESTS.card('55667788');

function open(path = tempLedgerFile('blacklist-'), holderDigests: HolderDigests = DIGESTS) {
  const ledger = openTempLedger({ path });
  const store = openBlacklistStore({
    db: ledger.db,
    bankPublicKeyHex: BANK.publicKeyHex,
    boxId: BOX_ID,
    holderDigests,
    clock: { now: () => NOON },
    logger: silentLogger,
  });
  return { store, ledger, path };
}

type Unsigned = Omit<BlacklistUpdate, 'boxId' | 'digests'>;
const full = (version: number, add: string[]): Unsigned => ({
  kind: 'full',
  version,
  issuedAt: '2026-03-01T00:00:00Z',
  add,
  remove: [],
});
const delta = (baseVersion: number, version: number, add: string[], remove: string[]): Unsigned => ({
  kind: 'delta',
  baseVersion,
  version,
  issuedAt: '2026-03-01T01:00:00Z',
  add,
  remove,
});
const signed = (u: Unsigned) => signedForBox(u);

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

  it('stores keyed digests only, never a card UID in clear', () => {
    const { store, ledger } = open();
    store.apply(signed(full(1, [A])));
    const rows = ledger.db.prepare('SELECT digest FROM canteen_blacklist').pluck().all();
    expect(rows).toEqual([A]);
    expect(JSON.stringify(rows)).not.toContain('04A1B2C3D4E5F6');
  });

  it('refuses an update signed by another key, or altered after signing, and keeps the old list', () => {
    const { store } = open();
    store.apply(signed(full(1, [A])));
    const forged = signedForBox(full(2, []), { key: OTHER_KEY });
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
    const bad = { ...signed(full(1, [A])), update: { ...signed(full(1, [A])).update, add: ['04A1B2C3'] } };
    expect(() => store.apply(bad)).toThrow(/update\.add\.0/);
    expect(codeOf(() => store.apply({ ...signed(full(1, [A])), format: 'other' }))).toBe(
      'CANTEEN_BLACKLIST_MALFORMED',
    );
    expect(() => signedForBox({ ...full(1, [A]), remove: [B] })).toThrow();
    // An update of the format before D27 (unkeyed digests, no box) is refused as such.
    const { boxId: _b, digests: _d, ...v1Update } = signed(full(1, [A])).update;
    expect(
      codeOf(() =>
        store.apply({ ...signed(full(1, [A])), format: 'sceneway.canteen-blacklist.v1', update: v1Update }),
      ),
    ).toBe('CANTEEN_BLACKLIST_MALFORMED');
  });

  it("refuses a list signed for another box: its digests are under that box's key (D27)", () => {
    const { store } = open();
    store.apply(signed(full(1, [A])));
    // Box B's list replayed to this box would match none of our cards, i.e. un-block them all.
    const otherBox = signedForBox(full(2, []), { boxId: 'box-other' });
    expect(codeOf(() => store.apply(otherBox))).toBe('CANTEEN_BLACKLIST_BOX');
    expect(store.has(A)).toBe(true);
  });

  it('drops a stored list of other digests when the holder key arrives, and refetches from version 0', async () => {
    // A box before D27: unkeyed digests, a v1 list stored (written here as its tables held it).
    const path = tempLedgerFile('blacklist-');
    const old = open(path, legacyHolderDigests);
    old.ledger.db
      .prepare('INSERT INTO canteen_blacklist (digest) VALUES (?)')
      .run(legacyHolderDigests.card('04A1B2C3D4E5F6'));
    old.ledger.db
      .prepare(
        "INSERT INTO canteen_blacklist_meta VALUES (1, 5, '2026-03-01T00:00:00Z', '2026-03-01T00:00:00Z', 'x')",
      )
      .run();
    old.ledger.db.prepare('DELETE FROM canteen_blacklist_digests').run(); // as before D27: no marker
    await old.ledger.close();
    // Restarted without a key, it keeps the list (it still matches its unkeyed digests) and refuses keyed lists.
    const stillOld = open(path, legacyHolderDigests);
    expect(stillOld.store.state()).toMatchObject({ version: 5, entries: 1 });
    expect(codeOf(() => stillOld.store.apply(signed(full(6, [A]))))).toBe('CANTEEN_HOLDER_KEY_MISSING');
    await stillOld.ledger.close();
    // With its key: the unkeyed list is dropped, and a full keyed list of any version applies.
    const upgraded = open(path);
    expect(upgraded.store.state()).toMatchObject({ version: 0, entries: 0 });
    expect(upgraded.store.apply(signed(full(1, [A])))).toMatchObject({ version: 1, entries: 1 });
    await upgraded.ledger.close();
    // Another key (another bank): dropped again. The same key: kept.
    expect(open(path).store.state()).toMatchObject({ version: 1 });
    const rekeyed = open(path, keyedHolderDigests(Buffer.alloc(32, 7)));
    expect(rekeyed.store.state()).toMatchObject({ version: 0, entries: 0 });
  });
});
