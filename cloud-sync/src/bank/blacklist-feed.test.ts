import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canonicalBytes } from '../batch/jcs.ts';
import { type BlacklistSource, sealBlacklistSource } from '../blacklist/blacklist-source.ts';
import { blacklistEnvelopeSchema } from '../blacklist/blacklist-v1.ts';
import { holderKeyForBox, keyedHolderDigests, legacyHolderDigests } from '../blacklist/holder-digest.ts';
import { generateSm2KeyPair, sm2Verify } from '../crypto/sm2.ts';
import { SyncError } from '../sync-error.ts';
import { blacklistFeedForBox, updatesSince } from './blacklist-feed.ts';

const bank = generateSm2KeyPair();
const issuedAt = '2026-11-29T00:00:00.000Z';
const full = (version: number): BlacklistSource =>
  sealBlacklistSource(
    { kind: 'full', version, issuedAt },
    { add: [`card:04${version}`], remove: [] },
    bank.privateKeyHex,
  );
const delta = (baseVersion: number, version: number): BlacklistSource =>
  sealBlacklistSource(
    { kind: 'delta', baseVersion, version, issuedAt },
    { add: [`card:05${version}`], remove: [] },
    bank.privateKeyHex,
  );
const since = (sources: BlacklistSource[], v: number) => updatesSince(sources, v, (s) => s.source);
const names = (sources: BlacklistSource[]) =>
  sources.map((s) =>
    s.source.kind === 'full' ? `full ${s.source.version}` : `${s.source.baseVersion}→${s.source.version}`,
  );

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('blacklist feed', () => {
  const published = [full(1), delta(1, 2), delta(2, 3), full(3), delta(3, 4)];

  it('gives a box the deltas from its version when they chain to the newest', () => {
    expect(names(since(published, 1))).toEqual(['1→2', '2→3', '3→4']);
    expect(names(since(published, 3))).toEqual(['3→4']);
  });

  it('gives a new box, or one whose chain is broken, the newest full list and the deltas after it', () => {
    expect(names(since(published, 0))).toEqual(['full 3', '3→4']);
    const gap = published.filter((s) => !(s.source.kind === 'delta' && s.source.version === 2));
    expect(names(since(gap, 1))).toEqual(['full 3', '3→4']);
  });

  it('gives nothing to a box that is current, or ahead of what the bank holds', () => {
    expect(since(published, 4)).toEqual([]);
    expect(since(published, 9)).toEqual([]);
    expect(since([], 0)).toEqual([]);
  });
});

describe('per-box blacklist updates (D27)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-feed-'));
  dirs.push(dir);
  const source = sealBlacklistSource(
    { kind: 'full', version: 1, issuedAt },
    { add: ['card:04DEADBEEF', 'account:acct-bad'], remove: [] },
    bank.privateKeyHex,
  );
  writeFileSync(join(dir, 'blacklist-v00000001.json'), JSON.stringify(source));

  it('never keeps a holder in clear in the source file', () => {
    expect(JSON.stringify(source)).not.toMatch(/DEADBEEF|acct-bad/i);
  });

  it("answers each box with digests under that box's key, signed for that box", () => {
    const a = blacklistFeedForBox(dir, 'box-a', 0, bank.privateKeyHex);
    const b = blacklistFeedForBox(dir, 'box-b', 0, bank.privateKeyHex);
    const [ua, ub] = [a.updates[0], b.updates[0]];
    if (!ua || !ub) throw new Error('expected one update each');
    blacklistEnvelopeSchema.parse(ua);
    expect(ua.update.boxId).toBe('box-a');
    const keyA = keyedHolderDigests(holderKeyForBox(bank.privateKeyHex, 'box-a'));
    expect(ua.update.add).toEqual([keyA.card('04deadbeef'), keyA.account('acct-bad')]);
    // Two boxes, two keys: the same card has unrelated digests, and neither is the unkeyed one.
    expect(ub.update.add[0]).not.toBe(ua.update.add[0]);
    expect(ua.update.add).not.toContain(legacyHolderDigests.card('04DEADBEEF'));
    const signed = canonicalBytes({ format: ua.format, update: ua.update });
    expect(sm2Verify(signed, Buffer.from(ua.signature, 'hex'), bank.publicKeyHex)).toBe(true);
    expect(JSON.stringify(a)).not.toMatch(/DEADBEEF/i);
  });

  it('refuses a source file not signed with this bank key', () => {
    const other = generateSm2KeyPair();
    const stranger = mkdtempSync(join(tmpdir(), 'sceneway-feed-'));
    dirs.push(stranger);
    const forged = sealBlacklistSource(
      { kind: 'full', version: 9, issuedAt },
      { add: [], remove: [] },
      other.privateKeyHex,
    );
    writeFileSync(join(stranger, 'blacklist-v00000009.json'), JSON.stringify(forged));
    let code = '';
    try {
      blacklistFeedForBox(stranger, 'box-a', 0, bank.privateKeyHex);
    } catch (e) {
      code = e instanceof SyncError ? e.code : String(e);
    }
    expect(code).toBe('BANK_BLACKLIST_FILE');
  });
});
