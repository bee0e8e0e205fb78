import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HeaderBag } from '../batch/request-auth.ts';
import {
  type BlacklistSource,
  blacklistUpdateForBox,
  openBlacklistSource,
  readBlacklistSource,
} from '../blacklist/blacklist-source.ts';
import type { SignedBlacklistUpdate } from '../blacklist/blacklist-v1.ts';
import { sm2PublicKeyOf } from '../crypto/sm2.ts';
import { sm3Hex } from '../crypto/sm3.ts';
import { SyncError } from '../sync-error.ts';
import type { IngestContext } from './ingest.ts';
import { BankRefusal } from './refusal.ts';
import { authenticateBoxRequest } from './request-gate.ts';

export const BLACKLIST_FEED_FORMAT = 'sceneway.canteen-blacklist-feed.v1';

/**
 * The bank's blacklist feed (docs/protocols/canteen-blacklist.md §Delivery): sealed, signed blacklist
 * sources kept as files in one directory (`sceneway-bank blacklist sign` writes them), from which each
 * box gets, signed for it, what takes it from its version to the newest. Entries reach a box as
 * digests under that box's holder key (D27); the box verifies every signature itself.
 */
export function loadBlacklistSources(dir: string, bankPublicKeyHex: string): BlacklistSource[] {
  const sources: BlacklistSource[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const text = readFileSync(join(dir, name), 'utf8');
    const seen = `${bankPublicKeyHex}\u0000${sm3Hex(text)}`;
    const known = verifiedSources.get(seen);
    if (known) {
      sources.push(known);
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new SyncError('BANK_BLACKLIST_FILE', `${name} is not JSON`, undefined, { cause });
    }
    const source = readBlacklistSource(json, bankPublicKeyHex, name);
    if (verifiedSources.size >= SOURCE_CACHE)
      verifiedSources.delete(verifiedSources.keys().next().value as string);
    verifiedSources.set(seen, source);
    sources.push(source);
  }
  return sources;
}

/** Sources whose signature verified, by content digest: every poll reads the folder, few files change. */
const verifiedSources = new Map<string, BlacklistSource>();
const SOURCE_CACHE = 1024;

interface Versioned {
  kind: 'full' | 'delta';
  version: number;
  baseVersion?: number | undefined;
}

/**
 * The updates that take a box from `since` to the newest version: the deltas from `since` when they
 * chain all the way, otherwise the newest full list and the deltas after it. Empty when the box is
 * current (or nothing newer can apply).
 */
export function updatesSince<T>(updates: readonly T[], since: number, meta: (u: T) => Versioned): T[] {
  const latest = Math.max(0, ...updates.map((u) => meta(u).version));
  if (since >= latest) return [];
  const deltaFrom = (version: number) =>
    updates.find((u) => meta(u).kind === 'delta' && meta(u).baseVersion === version);
  const chainFrom = (version: number): T[] => {
    const chain: T[] = [];
    for (let at = version, next = deltaFrom(at); next; next = deltaFrom(at)) {
      chain.push(next);
      at = meta(next).version;
    }
    return chain;
  };
  if (since > 0) {
    const deltas = chainFrom(since);
    const last = deltas.at(-1);
    if (last !== undefined && meta(last).version === latest) return deltas;
  }
  const full = updates
    .filter((u) => meta(u).kind === 'full' && meta(u).version > since)
    .sort((a, b) => meta(b).version - meta(a).version)[0];
  return full ? [full, ...chainFrom(meta(full).version)] : [];
}

/**
 * Signed per-box updates, by box and source signature: a box polls every few minutes and mostly asks
 * for the same versions, and an SM2 signature per update per poll would be the feed's main cost.
 * Bounded (oldest entry dropped first), since box ids come from enrolled boxes only.
 */
const perBox = new Map<string, SignedBlacklistUpdate>();
const PER_BOX_CACHE = 1024;

function updateForBox(
  source: BlacklistSource,
  boxId: string,
  bankPrivateKeyHex: string,
): SignedBlacklistUpdate {
  const key = `${boxId}\u0000${source.signature}`;
  const cached = perBox.get(key);
  if (cached) return cached;
  const signed = blacklistUpdateForBox(
    source,
    openBlacklistSource(source, bankPrivateKeyHex),
    boxId,
    bankPrivateKeyHex,
  );
  if (perBox.size >= PER_BOX_CACHE) perBox.delete(perBox.keys().next().value as string);
  perBox.set(key, signed);
  return signed;
}

/**
 * GET /v1/blacklist?since=N, signed like a batch request over SM3 of the request target
 * ("/v1/blacklist?since=N"): only enrolled boxes read the feed, each within its rate limit.
 */
export async function blacklistFeedFor(
  ctx: IngestContext,
  dir: string | undefined,
  headers: HeaderBag,
  target: string,
): Promise<{ format: string; latestVersion: number; updates: SignedBlacklistUpdate[] }> {
  if (!dir)
    throw new BankRefusal(404, 'BANK_BLACKLIST_OFF', 'this bank publishes no blacklist (no --blacklist-dir)');
  const { boxId } = await authenticateBoxRequest(ctx, headers, sm3Hex(target));
  const since = Number(new URL(target, 'http://bank').searchParams.get('since') ?? '0');
  if (!Number.isSafeInteger(since) || since < 0)
    throw new BankRefusal(400, 'BANK_REQUEST_MALFORMED', 'since must be a non-negative integer version');
  return blacklistFeedForBox(dir, boxId, since, ctx.bankPrivateKeyHex);
}

/** The feed's answer for one admitted box: its updates since `since`, digests under its holder key. */
export function blacklistFeedForBox(
  dir: string,
  boxId: string,
  since: number,
  bankPrivateKeyHex: string,
): { format: string; latestVersion: number; updates: SignedBlacklistUpdate[] } {
  const sources = loadBlacklistSources(dir, sm2PublicKeyOf(bankPrivateKeyHex));
  return {
    format: BLACKLIST_FEED_FORMAT,
    latestVersion: Math.max(0, ...sources.map((s) => s.source.version)),
    updates: updatesSince(sources, since, (s) => s.source).map((s) =>
      updateForBox(s, boxId, bankPrivateKeyHex),
    ),
  };
}
