import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HeaderBag } from '../batch/request-auth.ts';
import { blacklistEnvelopeSchema, type SignedBlacklistUpdate } from '../blacklist/blacklist-v1.ts';
import { sm3Hex } from '../crypto/sm3.ts';
import { SyncError } from '../sync-error.ts';
import type { IngestContext } from './ingest.ts';
import { BankRefusal } from './refusal.ts';
import { authenticateBoxRequest } from './request-gate.ts';

export const BLACKLIST_FEED_FORMAT = 'sceneway.canteen-blacklist-feed.v1';

/**
 * The bank's blacklist feed (docs/protocols/canteen-blacklist.md §Delivery): signed updates kept as
 * files in one directory (`sceneway-bank blacklist sign` writes them), from which each box gets what
 * takes it from its version to the newest. The box verifies every signature itself.
 */
export function loadBlacklistUpdates(dir: string): SignedBlacklistUpdate[] {
  const updates: SignedBlacklistUpdate[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const parsed = blacklistEnvelopeSchema.safeParse(JSON.parse(readFileSync(join(dir, name), 'utf8')));
    if (!parsed.success)
      throw new SyncError(
        'BANK_BLACKLIST_FILE',
        `${name} is not a signed blacklist update: ${parsed.error.issues[0]?.message}`,
      );
    updates.push(parsed.data);
  }
  return updates;
}

/**
 * The updates that take a box from `since` to the newest version: the deltas from `since` when they
 * chain all the way, otherwise the newest full list and the deltas after it. Empty when the box is
 * current (or nothing newer can apply).
 */
export function updatesSince(
  updates: readonly SignedBlacklistUpdate[],
  since: number,
): SignedBlacklistUpdate[] {
  const latest = Math.max(0, ...updates.map((u) => u.update.version));
  if (since >= latest) return [];
  const deltaFrom = (version: number) =>
    updates.find((u) => u.update.kind === 'delta' && u.update.baseVersion === version);
  const chainFrom = (version: number): SignedBlacklistUpdate[] => {
    const chain: SignedBlacklistUpdate[] = [];
    for (let at = version, next = deltaFrom(at); next; next = deltaFrom(at)) {
      chain.push(next);
      at = next.update.version;
    }
    return chain;
  };
  if (since > 0) {
    const deltas = chainFrom(since);
    if (deltas.at(-1)?.update.version === latest) return deltas;
  }
  const full = updates
    .filter((u) => u.update.kind === 'full' && u.update.version > since)
    .sort((a, b) => b.update.version - a.update.version)[0];
  return full ? [full, ...chainFrom(full.update.version)] : [];
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
  await authenticateBoxRequest(ctx, headers, sm3Hex(target));
  const since = Number(new URL(target, 'http://bank').searchParams.get('since') ?? '0');
  if (!Number.isSafeInteger(since) || since < 0)
    throw new BankRefusal(400, 'BANK_REQUEST_MALFORMED', 'since must be a non-negative integer version');
  const updates = loadBlacklistUpdates(dir);
  return {
    format: BLACKLIST_FEED_FORMAT,
    latestVersion: Math.max(0, ...updates.map((u) => u.update.version)),
    updates: updatesSince(updates, since),
  };
}
