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

/**
 * The bank's canteen blacklist (docs/protocols/canteen-blacklist.md; 004 §5.3.1 d, §5.4 b, §7.4 b:
 * a blacklist the bank controls, and §9.2.5 b: blacklisted accounts blocked in real time, here also
 * while the bank is unreachable). Entries are SM3 holder digests (holder-digest.ts), so neither the
 * wire nor the box ever holds a blacklisted card UID in clear. Nothing is used before its SM2
 * signature verifies against the pinned bank key; a bad update changes nothing.
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
  clock: { now(): number };
  logger: Logger;
}): BlacklistStore {
  const { db } = opts;
  db.exec(`CREATE TABLE IF NOT EXISTS canteen_blacklist (digest TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS canteen_blacklist_meta (id INTEGER PRIMARY KEY CHECK (id = 1),
      version INTEGER NOT NULL, issued_at TEXT NOT NULL, applied_at TEXT NOT NULL, update_digest TEXT NOT NULL);`);
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
