import { holderKeyForBox, sm3Hex } from '@sceneway/cloud-sync';
import { describe, expect, it } from 'vitest';
import { tempLedgerFile } from '../ledger/temp-ledger.ts';
import { verifyLedgerFile } from '../ledger/verify-ledger.ts';
import { type HolderDigests, keyedHolderDigests, legacyHolderDigests } from './holder-digest.ts';
import { BANK, cardSale, DIGESTS, openCanteen } from './test-support.ts';

/**
 * Issue #11: "Holder digests are unkeyed SM3 of card:<UID>: all demo card UIDs were recovered from the
 * ledger in 1.6 s". The attack, replayed on a ledger file the canteen wrote: read every holder digest
 * the file keeps and enumerate a small UID space. The demo's cards are 04A1B2C3D4…D9, i.e. in the
 * 65 536 UIDs 04A1B2xxxx: a bounded loop (65 536 hashes per scheme), not the 3 core-hours of a 4-byte space.
 */
const DEMO_CARDS = ['04A1B2C3D4', '04A1B2C3D5', '04A1B2C3D6', '04A1B2C3D7', '04A1B2C3D8', '04A1B2C3D9'];
const SPACE = 0x1_0000;
const candidate = (i: number) => `04A1B2${i.toString(16).toUpperCase().padStart(4, '0')}`;

/** Every holder digest an attacker finds in the ledger file (the canteen's tables live there). */
function digestsInFile(c: ReturnType<typeof openCanteen>): Set<string> {
  const db = c.ledger.db;
  const rows = [
    ...db.prepare<[], string>('SELECT holder FROM canteen_day_totals').pluck().all(),
    ...db.prepare<[], string>('SELECT holder FROM canteen_sales WHERE holder IS NOT NULL').pluck().all(),
    ...db.prepare<[], string>('SELECT pii_digest FROM records WHERE pii_digest IS NOT NULL').pluck().all(),
  ];
  return new Set(rows);
}

/** The attacker's enumeration, with the digest function they can compute (no key: unkeyed SM3). */
function enumerate(found: Set<string>, digest: (uid: string) => string): string[] {
  const recovered: string[] = [];
  for (let i = 0; i < SPACE; i++) {
    const uid = candidate(i);
    if (found.has(digest(uid))) recovered.push(uid);
  }
  return recovered;
}

async function lunch(holderDigests: HolderDigests) {
  const c = openCanteen({ holderDigests });
  for (const uid of DEMO_CARDS) {
    await expect(c.rules.decideSale('pos-1', cardSale(uid, 800))).resolves.toMatchObject({
      outcome: 'approved',
    });
  }
  return c;
}

describe('holder digests cannot be reversed from the ledger file without the key (D27)', () => {
  it('the unkeyed scheme gives every demo card back; the keyed one none', async () => {
    const unkeyed = await lunch(legacyHolderDigests);
    expect(enumerate(digestsInFile(unkeyed), (uid) => sm3Hex(`card:${uid}`)).sort()).toEqual(DEMO_CARDS);

    const keyed = await lunch(DIGESTS);
    const found = digestsInFile(keyed);
    expect(found.size).toBeGreaterThanOrEqual(DEMO_CARDS.length);
    expect(enumerate(found, (uid) => sm3Hex(`card:${uid}`))).toEqual([]);
    // Nor with a key the attacker guesses (another bank's derivation for this box).
    const guessed = keyedHolderDigests(holderKeyForBox('11'.repeat(32), 'box-test'));
    expect(enumerate(found, guessed.card)).toEqual([]);
    // With the key (the bank, or the box itself) the digests are what it matches on.
    expect(enumerate(found, DIGESTS.card).sort()).toEqual(DEMO_CARDS);
  });

  it('two boxes with different keys keep different digests for the same card', async () => {
    const a = keyedHolderDigests(holderKeyForBox(BANK.privateKeyHex, 'box-a'));
    const b = keyedHolderDigests(holderKeyForBox(BANK.privateKeyHex, 'box-b'));
    const boxA = await lunch(a);
    const boxB = await lunch(b);
    const inA = digestsInFile(boxA);
    for (const d of digestsInFile(boxB)) expect(inA.has(d)).toBe(false);
    expect(inA.has(a.card(DEMO_CARDS[0] as string))).toBe(true);
  });
});

describe('a box upgraded from unkeyed digests (D27 migration)', () => {
  it('keeps its chained records as they are, verifies, and uses the keyed digest from then on', async () => {
    const path = tempLedgerFile('upgrade-');
    const before = openCanteen({ path, holderDigests: legacyHolderDigests });
    await before.rules.decideSale('pos-1', cardSale('04A1B2C3D4', 800));
    const chainedBefore = before.ledger.db
      .prepare<[], string>('SELECT hash FROM records ORDER BY seq')
      .pluck()
      .all();
    await before.ledger.close();

    const after = openCanteen({ path, clock: before.clock });
    await after.rules.decideSale('pos-1', cardSale('04A1B2C3D4', 900));
    const db = after.ledger.db;
    // The chain is not rewritten: the old record's hash is as it was, and the file verifies.
    expect(db.prepare<[], string>('SELECT hash FROM records ORDER BY seq').pluck().all().slice(0, 1)).toEqual(
      chainedBefore,
    );
    expect(verifyLedgerFile(path)).toMatchObject({ ok: true, records: 2 });
    // The day's state: the old row (unkeyed) stays until the daily prune; the new sale counts under the key.
    const totals = db
      .prepare<[], { holder: string; total_fen: number }>('SELECT holder, total_fen FROM canteen_day_totals')
      .all();
    expect(totals).toEqual(
      expect.arrayContaining([
        { holder: legacyHolderDigests.card('04A1B2C3D4'), total_fen: 800 },
        { holder: DIGESTS.card('04A1B2C3D4'), total_fen: 900 },
      ]),
    );
    // No holder digest of either scheme is in a record (what a batch carries): piiDigest is salted,
    // its salt sealed with the card number (docs/batch-format.md §6), so batches need no migration.
    const records = db
      .prepare<[], string>("SELECT payload || coalesce(pii_digest, '') FROM records")
      .pluck()
      .all();
    for (const r of records) {
      expect(r).not.toContain(legacyHolderDigests.card('04A1B2C3D4'));
      expect(r).not.toContain(DIGESTS.card('04A1B2C3D4'));
    }
  });
});
