import { findChainBreak, GENESIS_HASH } from '@sceneway/cloud-sync';
import Database from 'better-sqlite3';
import type { LedgerVerifyResult } from './ledger-api.ts';
import { RAW_RECORD_COLUMNS_SQL, type RawRecordRow, recordFromRawRow } from './record-row.ts';

export interface ChainAnchor {
  seq: number;
  hash: string;
}

export function readMeta(db: Database.Database, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value;
}

export function writeMeta(db: Database.Database, key: string, value: string): void {
  db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ).run(key, value);
}

function anchorFrom(db: Database.Database, prefix: string): ChainAnchor | null {
  const seq = readMeta(db, `${prefix}_seq`);
  const hash = readMeta(db, `${prefix}_hash`);
  return seq !== undefined && hash !== undefined ? { seq: Number(seq), hash } : null;
}

/** Where the chain present in the file starts: after the last pruned record, else genesis. */
export function prunedAnchor(db: Database.Database): ChainAnchor {
  return anchorFrom(db, 'pruned_through') ?? { seq: 0, hash: GENESIS_HASH };
}

/** The last (seq, hash) a boot check verified; boot re-verifies only what came after it. */
export function verifiedCheckpoint(db: Database.Database): ChainAnchor | null {
  return anchorFrom(db, 'verified');
}

/**
 * Integrity check plus chain verification of an open ledger. `from: 'checkpoint'` (boot) walks only the
 * records after the last verified checkpoint; `from: 'start'` (`sceneway ledger verify`) walks all.
 * Rows are streamed with a raw iterator so a multi-million-record ledger never sits in memory.
 */
export function verifyOpenLedger(
  db: Database.Database,
  options: { from: 'checkpoint' | 'start'; integrity: 'quick' | 'full' },
): LedgerVerifyResult {
  try {
    return walkLedger(db, options);
  } catch (err) {
    // A page so damaged that reading it throws is an integrity failure too, not a crash.
    const code = String((err as { code?: unknown }).code ?? '');
    if (!/^SQLITE_(CORRUPT|NOTADB|IOERR)/.test(code)) throw err;
    return {
      ok: false,
      records: 0,
      head: { seq: 0, hash: '' },
      integrity: `${code}: ${(err as Error).message}`,
      chainBreak: null,
      tailMissing: null,
    };
  }
}

function walkLedger(
  db: Database.Database,
  options: { from: 'checkpoint' | 'start'; integrity: 'quick' | 'full' },
): LedgerVerifyResult {
  const pragma = options.integrity === 'full' ? 'integrity_check' : 'quick_check';
  const problems = (db.pragma(pragma) as Array<Record<string, string>>).map((r) => Object.values(r)[0]);
  const integrity = problems.length === 1 && problems[0] === 'ok' ? 'ok' : problems.slice(0, 5).join('; ');
  const pruned = prunedAnchor(db);
  const checkpoint = options.from === 'checkpoint' ? verifiedCheckpoint(db) : null;
  // Retention may have pruned past the checkpoint: start from whichever is later.
  const anchor = checkpoint && checkpoint.seq >= pruned.seq ? checkpoint : pruned;
  const count = (db.prepare('SELECT count(*) AS n FROM records').get() as { n: number }).n;
  const last = db.prepare('SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1').get() as
    | ChainAnchor
    | undefined;
  let chainBreak: LedgerVerifyResult['chainBreak'] = null;
  if (integrity === 'ok') {
    const rows = db
      .prepare(`SELECT ${RAW_RECORD_COLUMNS_SQL} FROM records WHERE seq > ? ORDER BY seq`)
      .raw(true)
      .iterate(anchor.seq) as IterableIterator<RawRecordRow>;
    const found = findChainBreak(
      anchor,
      (function* () {
        for (const row of rows) yield recordFromRawRow(row);
      })(),
    );
    if (found)
      chainBreak = {
        seq: found.seq,
        reason: `${found.reason}: expected ${found.expected}, found ${found.actual}`,
      };
  }
  // Not `anchor`: with every record gone, a boot's checkpoint would otherwise pass for the head.
  const head = last ?? pruned;
  const tailMissing = integrity === 'ok' ? findMissingTail(db, head) : null;
  if (!chainBreak && !tailMissing && integrity === 'ok') chainBreak = syncedHashMismatch(db);
  return {
    ok: integrity === 'ok' && chainBreak === null && tailMissing === null,
    records: count,
    head,
    integrity,
    chainBreak,
    tailMissing,
  };
}

/**
 * Records deleted from the end leave a chain that verifies, so the file's own watermarks are the only
 * witnesses: the head may never be below the record the bank acknowledged last (synced_seq), nor below
 * what an earlier boot verified. Either means acknowledged or answered records are gone, and appending
 * on top would re-use sequence numbers the bank already holds (DESIGN invariant 2).
 */
function findMissingTail(db: Database.Database, head: ChainAnchor): LedgerVerifyResult['tailMissing'] {
  const synced = readMeta(db, 'synced_seq');
  if (synced !== undefined && Number(synced) > head.seq) {
    return {
      headSeq: head.seq,
      expectedSeq: Number(synced),
      reason: 'the bank has acknowledged (meta synced_seq)',
    };
  }
  const verified = readMeta(db, 'verified_seq');
  if (verified !== undefined && Number(verified) > head.seq) {
    return {
      headSeq: head.seq,
      expectedSeq: Number(verified),
      reason: 'an earlier boot verified (meta verified_seq)',
    };
  }
  return null;
}

/** The record at the synced watermark must be the one the bank acknowledged, not a re-written one. */
function syncedHashMismatch(db: Database.Database): LedgerVerifyResult['chainBreak'] {
  const synced = anchorFrom(db, 'synced');
  if (!synced) return null;
  const row = db.prepare('SELECT hash FROM records WHERE seq = ?').get(synced.seq) as
    | { hash: string }
    | undefined;
  if (!row || row.hash === synced.hash) return null;
  return {
    seq: synced.seq,
    reason: `hash differs from the one the bank acknowledged: expected ${synced.hash}, found ${row.hash}`,
  };
}

/** `sceneway ledger verify --db PATH`: opens the file read-only so a running agent is not disturbed. */
export function verifyLedgerFile(path: string, options: { full?: boolean } = {}): LedgerVerifyResult {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return verifyOpenLedger(db, { from: 'start', integrity: options.full ? 'full' : 'quick' });
  } finally {
    db.close();
  }
}
