import {
  BLACKLIST_FORMAT,
  type BlacklistUpdate,
  blacklistEnvelopeSchema,
  blacklistUpdateSchema,
  canonicalBytes,
  type SignedBlacklistUpdate,
  signBlacklistUpdate,
  sm2Verify,
  sm3Hex,
} from '@sceneway/cloud-sync';
import type Database from 'better-sqlite3';
import { GatewayError } from '../gateway-error.ts';
import type { Logger } from '../logger.ts';
import type { HolderDigests } from './holder-digest.ts';

/**
 * The bank's canteen blacklist (docs/protocols/canteen-blacklist.md; 004 §5.3.1 d, §5.4 b, §7.4 b:
 * a blacklist the bank controls, and §9.2.5 b: blacklisted accounts blocked in real time, here also
 * while the bank is unreachable). Entries are HMAC-SM3 holder digests under this box's holder key
 * (holder-digest.ts, D27), so neither the wire nor the box ever holds a blacklisted card UID in clear,
 * nor a digest anyone without the key could reverse by enumerating card UIDs. Nothing is used before
 * its SM2 signature verifies against the pinned bank key and it names this box; a bad update changes
 * nothing.
 *
 * The wire format and its signing live in cloud-sync (blacklist/blacklist-v1.ts), shared with the bank.
 */
export {
  BLACKLIST_FORMAT,
  type BlacklistUpdate,
  blacklistUpdateSchema,
  type SignedBlacklistUpdate,
  signBlacklistUpdate,
};

export interface BlacklistState {
  /** 0 until the first full list has been applied. */
  version: number;
  entries: number;
  issuedAt: string | null;
  appliedAt: string | null;
}

export interface BlacklistStore {
  has(holderDigest: string): boolean;
  state(): BlacklistState;
  /** Verifies and applies a signed update (object, JSON text or bytes); throws GatewayError CANTEEN_BLACKLIST_*. */
  apply(signed: unknown): BlacklistState;
}

function parseEnvelope(signed: unknown): SignedBlacklistUpdate {
  let value = signed;
  try {
    if (typeof signed === 'string') value = JSON.parse(signed);
    else if (signed instanceof Uint8Array) value = JSON.parse(Buffer.from(signed).toString('utf8'));
  } catch (cause) {
    throw new GatewayError('CANTEEN_BLACKLIST_MALFORMED', 'blacklist update is not JSON', undefined, {
      cause,
    });
  }
  const parsed = blacklistEnvelopeSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GatewayError(
      'CANTEEN_BLACKLIST_MALFORMED',
      `blacklist update ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
      'the current blacklist stays in force; ask the bank for a well-formed update',
    );
  }
  return parsed.data;
}

export function openBlacklistStore(opts: {
  db: Database.Database;
  bankPublicKeyHex: string;
  bankUserId?: string;
  boxId: string;
  holderDigests: HolderDigests;
  clock: { now(): number };
  logger: Logger;
}): BlacklistStore {
  const { db } = opts;
  db.exec(`CREATE TABLE IF NOT EXISTS canteen_blacklist (digest TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS canteen_blacklist_meta (id INTEGER PRIMARY KEY CHECK (id = 1),
      version INTEGER NOT NULL, issued_at TEXT NOT NULL, applied_at TEXT NOT NULL, update_digest TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS canteen_blacklist_digests (id INTEGER PRIMARY KEY CHECK (id = 1),
      digests TEXT NOT NULL);`);
  forgetListOfOtherDigests(db, opts.holderDigests, opts.logger);
  const hasStmt = db.prepare<[string], number>('SELECT 1 FROM canteen_blacklist WHERE digest = ?').pluck();
  const countStmt = db.prepare<[], number>('SELECT COUNT(*) FROM canteen_blacklist').pluck();
  const metaStmt = db.prepare<
    [],
    { version: number; issued_at: string; applied_at: string; update_digest: string }
  >('SELECT version, issued_at, applied_at, update_digest FROM canteen_blacklist_meta WHERE id = 1');
  const addStmt = db.prepare<[string]>('INSERT OR IGNORE INTO canteen_blacklist (digest) VALUES (?)');
  const removeStmt = db.prepare<[string]>('DELETE FROM canteen_blacklist WHERE digest = ?');
  const clearStmt = db.prepare('DELETE FROM canteen_blacklist');
  const putMeta = db.prepare<[number, string, string, string]>(
    `INSERT INTO canteen_blacklist_meta (id, version, issued_at, applied_at, update_digest) VALUES (1, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET version = excluded.version, issued_at = excluded.issued_at,
       applied_at = excluded.applied_at, update_digest = excluded.update_digest`,
  );

  const state = (): BlacklistState => {
    const meta = metaStmt.get();
    return {
      version: meta?.version ?? 0,
      entries: countStmt.get() ?? 0,
      issuedAt: meta?.issued_at ?? null,
      appliedAt: meta?.applied_at ?? null,
    };
  };

  const applyAtomically = db.transaction((u: BlacklistUpdate, digest: string, appliedAt: string) => {
    if (u.kind === 'full') clearStmt.run();
    for (const d of u.remove) removeStmt.run(d);
    for (const d of u.add) addStmt.run(d);
    putMeta.run(u.version, u.issuedAt, appliedAt, digest);
  });

  return {
    has: (digest) => hasStmt.get(digest) !== undefined,
    state,
    apply(signed) {
      if (opts.holderDigests.scheme !== 'hmac-sm3') {
        throw new GatewayError(
          'CANTEEN_HOLDER_KEY_MISSING',
          'this box has no holder key, so it cannot match keyed blacklist entries; the current list stays in force',
          'import the bank enrolment answer: `sceneway keys enrolment-answer --config FILE --in answer.json`',
        );
      }
      const env = parseEnvelope(signed);
      const signedBytes = canonicalBytes({ format: env.format, update: env.update });
      const userId = opts.bankUserId === undefined ? {} : { userId: opts.bankUserId };
      if (!sm2Verify(signedBytes, Buffer.from(env.signature, 'hex'), opts.bankPublicKeyHex, userId)) {
        throw new GatewayError(
          'CANTEEN_BLACKLIST_SIGNATURE',
          'blacklist update signature does not verify with the pinned bank public key; the current list stays in force',
          'check bank.publicKeyHex in the box config, then fetch the update again',
        );
      }
      const u = env.update;
      if (u.boxId !== opts.boxId) {
        throw new GatewayError(
          'CANTEEN_BLACKLIST_BOX',
          `blacklist update is signed for box ${u.boxId}, not this box (${opts.boxId}); the current list stays in force`,
          'its digests are under another box key and would match none of our cards; ask the bank for this box',
        );
      }
      const digest = sm3Hex(signedBytes);
      const meta = metaStmt.get();
      const current = meta?.version ?? 0;
      // A re-delivered update (sync retry) is a no-op, not an error.
      if (meta && meta.update_digest === digest) return state();
      if (u.kind === 'full' && u.version <= current) {
        throw new GatewayError(
          'CANTEEN_BLACKLIST_VERSION',
          `full blacklist version ${u.version} is not newer than the current version ${current}`,
          'an older list would un-block cards; the current list stays in force',
        );
      }
      // A delta needs a list to apply to: the first update a box accepts is a full list.
      if (u.kind === 'delta' && (current === 0 || u.baseVersion !== current)) {
        throw new GatewayError(
          'CANTEEN_BLACKLIST_VERSION',
          `blacklist delta ${u.baseVersion}→${u.version} does not apply to the current version ${current}`,
          'fetch the missing deltas or a full list from the bank; the current list stays in force',
        );
      }
      applyAtomically(u, digest, new Date(opts.clock.now()).toISOString());
      const after = state();
      opts.logger.info(
        {
          blacklistVersion: after.version,
          kind: u.kind,
          added: u.add.length,
          removed: u.remove.length,
          entries: after.entries,
        },
        'canteen blacklist updated',
      );
      return after;
    },
  };
}

/**
 * A stored list made with other digests than this box now makes (an upgraded box's unkeyed list once
 * its holder key arrives, or another key's) matches no card: it is dropped, with the version, so the
 * next poll fetches a full list under the current key (D27). Until then the list is empty, which the
 * log says; the poller asks the bank soon after start.
 */
function forgetListOfOtherDigests(db: Database.Database, digests: HolderDigests, logger: Logger): void {
  const stored = db
    .prepare<[], string>('SELECT digests FROM canteen_blacklist_digests WHERE id = 1')
    .pluck()
    .get();
  const hadList = db.prepare('SELECT 1 FROM canteen_blacklist_meta WHERE id = 1').get() !== undefined;
  // Lists stored before D27 carry no marker: they were unkeyed SM3.
  const current = stored ?? (hadList ? 'sm3' : undefined);
  if (current === digests.id) return;
  db.transaction(() => {
    if (current !== undefined) {
      db.prepare('DELETE FROM canteen_blacklist').run();
      db.prepare('DELETE FROM canteen_blacklist_meta').run();
    }
    db.prepare(
      `INSERT INTO canteen_blacklist_digests (id, digests) VALUES (1, ?)
       ON CONFLICT (id) DO UPDATE SET digests = excluded.digests`,
    ).run(digests.id);
  })();
  if (current !== undefined)
    logger.warn(
      { from: current.split(':')[0], to: digests.scheme },
      'canteen blacklist held digests of another key; dropped, a full list is fetched from the bank',
    );
}
