import { describe, expect, it } from 'vitest';
import { type BlacklistUpdate, signBlacklistUpdate } from '../blacklist/blacklist-v1.ts';
import { cardHolderDigest } from '../blacklist/holder-digest.ts';
import { generateSm2KeyPair } from '../crypto/sm2.ts';
import { updatesSince } from './blacklist-feed.ts';

const bank = generateSm2KeyPair();
const issuedAt = '2026-11-29T00:00:00.000Z';
const full = (version: number): BlacklistUpdate => ({
  kind: 'full',
  version,
  issuedAt,
  add: [cardHolderDigest(`04${version}`)],
  remove: [],
});
const delta = (baseVersion: number, version: number): BlacklistUpdate => ({
  kind: 'delta',
  baseVersion,
  version,
  issuedAt,
  add: [cardHolderDigest(`05${version}`)],
  remove: [],
});
const names = (updates: ReturnType<typeof updatesSince>) =>
  updates.map((u) =>
    u.update.kind === 'full' ? `full ${u.update.version}` : `${u.update.baseVersion}→${u.update.version}`,
  );

describe('blacklist feed', () => {
  const published = [full(1), delta(1, 2), delta(2, 3), full(3), delta(3, 4)].map((u) =>
    signBlacklistUpdate(u, bank.privateKeyHex),
  );

  it('gives a box the deltas from its version when they chain to the newest', () => {
    expect(names(updatesSince(published, 1))).toEqual(['1→2', '2→3', '3→4']);
    expect(names(updatesSince(published, 3))).toEqual(['3→4']);
  });

  it('gives a new box, or one whose chain is broken, the newest full list and the deltas after it', () => {
    expect(names(updatesSince(published, 0))).toEqual(['full 3', '3→4']);
    const gap = published.filter((u) => !(u.update.kind === 'delta' && u.update.version === 2));
    expect(names(updatesSince(gap, 1))).toEqual(['full 3', '3→4']);
  });

  it('gives nothing to a box that is current, or ahead of what the bank holds', () => {
    expect(updatesSince(published, 4)).toEqual([]);
    expect(updatesSince(published, 9)).toEqual([]);
    expect(updatesSince([], 0)).toEqual([]);
  });
});
