import { dirname } from 'node:path';
import { type ChainRecord, chainHash, isIntegerJson, loneSurrogatePath } from '@sceneway/cloud-sync';
import { preparePrivateDatabaseFile } from '@sceneway/core';
import Database from 'better-sqlite3';
import { sql } from 'drizzle-orm';
import { type BetterSQLite3Database, drizzle } from 'drizzle-orm/better-sqlite3';
import { type Clock, systemClock } from '../clock.ts';
import { GatewayError, isGatewayError } from '../gateway-error.ts';
import { type Logger, silentLogger } from '../logger.ts';
import { cachedFreeSpace } from './disk-space.ts';
import { createGroupCommitter, type ItemOutcome } from './group-commit.ts';
import {
  type AppendInput,
  type AppendResult,
  type Ledger,
  type LedgerRecord,
  type LedgerStats,
  type LedgerVerifyResult,
  RECORD_KINDS,
} from './ledger-api.ts';
import { migrateLedger, outbox, records } from './ledger-schema.ts';
import { sealPiiAtRestMany } from './pii-at-rest.ts';
import { quarantineLedgerFile } from './quarantine.ts';
import { RAW_RECORD_COLUMNS_SQL, type RawRecordRow, recordFromRawRow } from './record-row.ts';
import { prunedAnchor, readMeta, verifyOpenLedger, writeMeta } from './verify-ledger.ts';
import { createWalSync, type WalSync } from './wal-sync.ts';

export interface AlertSink {
  raise(alert: { code: string; message: string; hint?: string }): void;
  clear(code: string): void;
}

export interface OpenLedgerOptions {
  path: string;
  boxId: string;
  /** The box's 16-byte SM4 key for personal data at rest (keys/box-keys.ts). */
  dataKey: Buffer;
  clock?: Clock;
  /** Test seam: how commits are made durable; default the WAL fsync of wal-sync.ts. */
  walSync?: WalSync;
  quarantineDir?: string;
  /** Refuse new records (LEDGER_DISK_FULL) below this much free space, before SQLite has to. */
  freeSpaceFloorMb?: number;
  /** Optional cap on the ledger file (SQLite max_page_count); reaching it is LEDGER_DISK_FULL too. */
  maxSizeMb?: number;
  maxGroupSize?: number;
  alerts?: AlertSink;
  logger?: Logger;
  /** Told of each new record once it is durable (not of a duplicate); must not throw: the append has succeeded. */
  onAppended?: (kind: string) => void;
  /**
   * Told once when a WAL fsync failed (LEDGER_SYNC_FAILED): the ledger has stopped writing and the
   * process must exit so the supervisor restarts it and the boot check decides what is on disk
   * (docs/decisions.md D17). `sceneway start` exits with code 3.
   */
  onFatal?: (error: GatewayError) => void;
}

export interface SqliteLedger extends Ledger {
  readonly orm: BetterSQLite3Database;
  readonly path: string;
  readonly boxId: string;
  readonly dataKey: Buffer;
  /**
   * Resolves once every commit made so far is on disk. Appends wait for it themselves; other writes
   * that must survive a power loss before the box acts on them (a batch stored before it is sent)
   * await it. Rejects with LEDGER_SYNC_FAILED, for good, once an fsync has failed.
   */
  durable(): Promise<void>;
  /** The fatal error once a WAL fsync failed, else null. */
  readonly fatal: GatewayError | null;
  /** Called by the outbox when the bank acknowledged records up to `syncedThroughSeq`. */
  noteSynced(removedFromOutbox: number, syncedThroughSeq: number): void;
  /** Changes the file cap at run time (operators, and the disk-full test). */
  setMaxSizeMb(mb: number | undefined): void;
}

const SYNC_FAILED_HINT =
  'The disk may be failing: check the storage and the kernel log. The agent stops writing and exits; on ' +
  'restart its boot check decides what reached the disk, and terminals resend what was not answered.';

const DISK_FULL_HINT =
  'Free space on the data volume (or raise ledger.freeSpaceFloorMb / the size cap). Everything already ' +
  'acknowledged is intact; the ledger accepts records again by itself once space returns.';

function isSqliteFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'SQLITE_IOERR_WRITE';
}

function validateAppend(input: AppendInput): void {
  if (!(RECORD_KINDS as readonly string[]).includes(input.kind)) {
    throw new GatewayError('LEDGER_RECORD_INVALID', `kind: unknown record kind "${String(input.kind)}"`);
  }
  if (input.amountFen !== null && !Number.isSafeInteger(input.amountFen)) {
    throw new GatewayError('LEDGER_RECORD_INVALID', 'amountFen: money must be an integer number of fen');
  }
  // The bank refuses floats anywhere in a batch; refusing here keeps a bad record out of the chain
  // instead of blocking the uploader behind it forever.
  if (!isIntegerJson(input.payload)) {
    throw new GatewayError(
      'LEDGER_RECORD_INVALID',
      'payload: only strings, integers, booleans, null, arrays, objects',
    );
  }
  // A lone surrogate has no JCS form (RFC 8785 §3.2.2.2): signed into the chain, the record would be
  // refused by any RFC-conforming bank and stall the uploader behind it forever (issue #11).
  const bad = loneSurrogatePath({
    terminalId: input.terminalId,
    idempotencyKey: input.idempotencyKey,
    payload: input.payload,
    pii: input.pii,
  });
  if (bad !== null) {
    throw new GatewayError(
      'LEDGER_RECORD_INVALID',
      `${bad}: a string holds a lone UTF-16 surrogate, which no batch can carry (RFC 8785 §3.2.2.2)`,
      'Refuse the input where it entered: strings from terminals must be well-formed Unicode.',
    );
  }
}

/**
 * Opens (creating if absent) the box ledger: WAL, synchronous=NORMAL + our own WAL fsync before every
 * acknowledgement (wal-sync.ts), schema migrations, the boot
 * integrity check, then group-committed appends. A damaged file is quarantined and LEDGER_QUARANTINED is
 * thrown with what happened and what to do; the agent does not start on a ledger it cannot trust.
 */
export function openLedger(options: OpenLedgerOptions): SqliteLedger {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  let db: Database.Database;
  try {
    // 0600 before SQLite opens it (its -wal/-shm inherit the mode): the ledger holds money records
    // and sealed personal data, and a 022 umask made it readable to every account on the box.
    preparePrivateDatabaseFile(options.path);
    db = new Database(options.path);
    db.pragma('journal_mode = WAL');
    // Deleted rows are overwritten with zeros, so a retention prune leaves nothing readable in the
    // file's free pages (DESIGN invariant 5: deleted after the retention period means gone).
    db.pragma('secure_delete = ON');
    // NORMAL, not FULL: appends are acknowledged only after wal-sync.ts has fsynced the WAL off the
    // event loop, which gives every acknowledged commit FULL's durability (docs/decisions.md D15).
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    migrateLedger(db);
  } catch (cause) {
    if (
      (cause as { code?: string }).code === 'SQLITE_NOTADB' ||
      (cause as { code?: string }).code === 'SQLITE_CORRUPT'
    ) {
      throw quarantine(
        options,
        `the file is not a readable SQLite database (${(cause as Error).message})`,
        clock,
        cause,
      );
    }
    throw new GatewayError(
      'LEDGER_OPEN',
      `cannot open the ledger at ${options.path}: ${(cause as Error).message}`,
      undefined,
      {
        cause,
      },
    );
  }

  const boot = verifyOpenLedger(db, { from: 'checkpoint', integrity: 'quick' });
  if (boot.tailMissing) {
    db.close();
    throw tailMissing(options, boot.tailMissing);
  }
  if (!boot.ok) {
    db.close();
    const what =
      boot.integrity !== 'ok'
        ? `SQLite integrity check failed: ${boot.integrity}`
        : `hash chain broken at record ${boot.chainBreak?.seq}: ${boot.chainBreak?.reason}`;
    throw quarantine(options, what, clock);
  }
  writeMeta(db, 'verified_seq', String(boot.head.seq));
  writeMeta(db, 'verified_hash', boot.head.hash);
  writeMeta(db, 'box_id', options.boxId);

  const walSync = options.walSync ?? createWalSync(options.path);
  // Before anything reads a decision from this file: a crashed predecessor's commits may sit only in
  // the page cache, and answering from them would be answering from what a power loss erases
  // (DESIGN invariant 1; docs/decisions.md D17). Blocking, once, before any terminal is served.
  try {
    walSync.syncInherited();
  } catch (cause) {
    db.close();
    throw new GatewayError(
      'LEDGER_SYNC_FAILED',
      `cannot sync the ledger at ${options.path} to disk at open: ${(cause as Error).message}`,
      SYNC_FAILED_HINT,
      { cause },
    );
  }

  const orm = drizzle(db);
  const insertRecord = orm
    .insert(records)
    .values({
      seq: sql.placeholder('seq'),
      boxId: sql.placeholder('boxId'),
      kind: sql.placeholder('kind'),
      terminalId: sql.placeholder('terminalId'),
      amountFen: sql.placeholder('amountFen'),
      payload: sql.placeholder('payload'),
      piiDigest: sql.placeholder('piiDigest'),
      piiIv: sql.placeholder('piiIv'),
      piiSealed: sql.placeholder('piiSealed'),
      recordedAt: sql.placeholder('recordedAt'),
      clockOffsetMs: sql.placeholder('clockOffsetMs'),
      prevHash: sql.placeholder('prevHash'),
      hash: sql.placeholder('hash'),
      idempotencyKey: sql.placeholder('idempotencyKey'),
    })
    .prepare();
  const insertOutbox = orm
    .insert(outbox)
    .values({ seq: sql.placeholder('seq') })
    .prepare();
  // The same raw read as the outbox and the boot walk, so one converter (recordFromRawRow) serves all.
  const selectByKey = db
    .prepare(`SELECT ${RAW_RECORD_COLUMNS_SQL} FROM records WHERE idempotency_key = ?`)
    .raw(true);
  const findByKey = (key: string): LedgerRecord | null => {
    const row = selectByKey.get(key) as RawRecordRow | undefined;
    return row ? recordFromRawRow(row) : null;
  };
  const oldestUnsynced = db.prepare(
    'SELECT r.recorded_at AS at FROM outbox o JOIN records r ON r.seq = o.seq ORDER BY o.seq LIMIT 1',
  );

  let head = { seq: boot.head.seq, hash: boot.head.hash };
  let unsyncedCount = (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  // Kept in memory like unsyncedCount: stats() is asked on every sale (the full-buffer check).
  const syncedMeta = readMeta(db, 'synced_seq');
  let lastSyncedSeq = syncedMeta !== undefined ? Number(syncedMeta) : prunedAnchor(db).seq;
  let closed = false;
  let fatal: GatewayError | null = null;
  const freeMb = cachedFreeSpace(dirname(options.path));
  const floorMb = options.freeSpaceFloorMb ?? 0;
  let diskFullRaised = false;

  const setMaxSizeMb = (mb: number | undefined) => {
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    // 1073741823 is SQLite's default maximum page count.
    const pages = mb === undefined ? 1073741823 : Math.max(1, Math.floor((mb * 1024 * 1024) / pageSize));
    db.pragma(`max_page_count = ${pages}`);
  };
  if (options.maxSizeMb !== undefined) setMaxSizeMb(options.maxSizeMb);

  const diskFull = (detail: string, cause?: unknown) => {
    const error = new GatewayError(
      'LEDGER_DISK_FULL',
      `the ledger cannot take new records: ${detail}`,
      DISK_FULL_HINT,
      {
        cause,
      },
    );
    if (!diskFullRaised) {
      diskFullRaised = true;
      options.alerts?.raise({ code: 'LEDGER_DISK_FULL', message: error.message, hint: DISK_FULL_HINT });
      logger.error({ code: 'LEDGER_DISK_FULL', detail }, 'ledger refuses new records: disk full');
    }
    return error;
  };

  const commitGroup = (inputs: AppendInput[]): Array<ItemOutcome<AppendResult>> => {
    if (closed) throw new GatewayError('LEDGER_CLOSED', 'the ledger is closed');
    if (fatal) throw fatal;
    if (floorMb > 0) {
      const free = freeMb();
      if (free < floorMb) throw diskFull(`${free.toFixed(0)} MiB free, below the floor of ${floorMb} MiB`);
    }
    const outcomes: Array<ItemOutcome<AppendResult>> = [];
    let seq = head.seq;
    let prevHash = head.hash;
    let added = 0;
    // One SM4 pass for the group (a repeated idempotency key wastes its seal; that is rare).
    const sealedPii = sealPiiAtRestMany(
      options.dataKey,
      inputs.map((input) => input.pii),
    );
    try {
      db.transaction(() => {
        for (const [index, input] of inputs.entries()) {
          if (input.idempotencyKey !== undefined) {
            const existing = findByKey(input.idempotencyKey);
            if (existing) {
              outcomes.push({ ok: true, value: { record: existing, duplicate: true } });
              continue;
            }
          }
          if (input.withinCommit) {
            try {
              // A nested better-sqlite3 transaction is a SAVEPOINT: a failing scenario step rolls back
              // only its own writes, and only its caller's append is refused.
              db.transaction(() => input.withinCommit?.(db))();
            } catch (error) {
              outcomes.push({ ok: false, error });
              continue;
            }
          }
          const sealed = sealedPii[index];
          const chained: ChainRecord = {
            boxId: options.boxId,
            seq: seq + 1,
            kind: input.kind,
            terminalId: input.terminalId,
            amountFen: input.amountFen,
            payload: input.payload,
            piiDigest: sealed?.digest ?? null,
            recordedAt: new Date(clock.now()).toISOString(),
            clockOffsetMs: Math.round(clock.offsetMs()),
            prevHash,
          };
          const hash = chainHash(chained);
          insertRecord.run({
            ...chained,
            payload: JSON.stringify(chained.payload),
            piiIv: sealed?.iv ?? null,
            piiSealed: sealed?.sealed ?? null,
            hash,
            idempotencyKey: input.idempotencyKey ?? null,
          });
          insertOutbox.run({ seq: chained.seq });
          seq = chained.seq;
          prevHash = hash;
          added++;
          outcomes.push({
            ok: true,
            value: { record: { ...chained, kind: input.kind, hash }, duplicate: false },
          });
        }
      })();
    } catch (cause) {
      if (isSqliteFull(cause)) throw diskFull('the ledger file or its disk is full (SQLITE_FULL)', cause);
      if (isGatewayError(cause)) throw cause;
      throw new GatewayError(
        'LEDGER_WRITE',
        `writing to the ledger failed: ${(cause as Error).message}`,
        undefined,
        {
          cause,
        },
      );
    }
    head = { seq, hash: prevHash };
    unsyncedCount += added;
    if (diskFullRaised && added > 0) {
      diskFullRaised = false;
      options.alerts?.clear('LEDGER_DISK_FULL');
      logger.info({ code: 'LEDGER_DISK_FULL' }, 'ledger accepts records again');
    }
    return outcomes;
  };

  /**
   * A failed fsync is fatal (docs/decisions.md D17). The group is committed but not known to be on
   * disk, and after EIO no later fsync can be trusted to say otherwise (fsyncgate), so: no fsync is
   * tried again, every later write is refused (query_only stops the outbox and scenario tables too),
   * the alert is raised and the agent is told to exit. Nobody is answered for that group: "declined"
   * would be false for a committed sale, "approved" is not known to be true.
   */
  const enterFatal = (cause: unknown): GatewayError => {
    if (fatal) return fatal;
    fatal = new GatewayError(
      'LEDGER_SYNC_FAILED',
      `syncing the ledger to disk failed: ${(cause as Error).message}; the ledger refuses every further write`,
      SYNC_FAILED_HINT,
      { cause },
    );
    try {
      db.pragma('query_only = ON');
    } catch {
      // Best effort: commitGroup refuses appends by itself.
    }
    options.alerts?.raise({ code: 'LEDGER_SYNC_FAILED', message: fatal.message, hint: SYNC_FAILED_HINT });
    logger.fatal({ code: 'LEDGER_SYNC_FAILED', err: (cause as Error).message }, fatal.message);
    try {
      options.onFatal?.(fatal);
    } catch (err) {
      // The callers must still see LEDGER_SYNC_FAILED: any other error would be answered "declined".
      logger.error({ err: (err as Error).message }, 'the ledger fatal handler failed');
    }
    return fatal;
  };
  const durable = async () => {
    if (fatal) throw fatal;
    try {
      await walSync.sync();
    } catch (cause) {
      throw enterFatal(cause);
    }
    // A sync that succeeded after another one failed proves nothing (fsyncgate).
    if (fatal) throw fatal;
  };
  const committer = createGroupCommitter<AppendInput, AppendResult>({
    commit: commitGroup,
    afterCommit: durable,
    maxGroupSize: options.maxGroupSize ?? 1000,
  });

  const ledger: SqliteLedger = {
    db,
    orm,
    path: options.path,
    boxId: options.boxId,
    dataKey: options.dataKey,
    append(input) {
      try {
        validateAppend(input);
      } catch (error) {
        return Promise.reject(error);
      }
      return committer.submit(input).then((result) => {
        if (!result.duplicate) options.onAppended?.(result.record.kind);
        return result;
      });
    },
    stats(): LedgerStats {
      const oldest = unsyncedCount > 0 ? (oldestUnsynced.get() as { at: string } | undefined) : undefined;
      return {
        headSeq: head.seq,
        headHash: head.hash,
        unsyncedCount,
        oldestUnsyncedAt: oldest ? Date.parse(oldest.at) : null,
        lastSyncedSeq,
      };
    },
    findByIdempotencyKey(key): LedgerRecord | null {
      return findByKey(key);
    },
    noteSynced(removed, syncedThroughSeq) {
      unsyncedCount = Math.max(0, unsyncedCount - removed);
      lastSyncedSeq = syncedThroughSeq;
    },
    setMaxSizeMb,
    durable,
    get fatal() {
      return fatal;
    },
    async close() {
      if (closed) return;
      // Let appends already queued commit first: they were accepted before close was asked for.
      while (committer.queued > 0) await new Promise((r) => setImmediate(r));
      if (!fatal) await walSync.sync().catch(() => {});
      await walSync.close();
      closed = true;
      // After a failed fsync the connection is left for the process exit to drop: closing it would
      // checkpoint (copy the WAL into the database and reset the log), writing after the failure.
      if (!fatal) db.close();
    },
  };
  return ledger;
}

function tailMissing(
  options: OpenLedgerOptions,
  missing: NonNullable<LedgerVerifyResult['tailMissing']>,
): GatewayError {
  const message =
    `the ledger at ${options.path} ends at record ${missing.headSeq}, below record ${missing.expectedSeq} ` +
    `that ${missing.reason}: its tail was deleted or the file was restored from an older copy`;
  const hint =
    'The file was left in place and the agent does not start: new records would re-use sequence numbers ' +
    'the bank already holds. Restore the newest ledger copy of this box, or contact support; ' +
    '`sceneway ledger verify --db FILE` shows the same finding.';
  options.alerts?.raise({ code: 'LEDGER_TAIL_MISSING', message, hint });
  (options.logger ?? silentLogger).error({ code: 'LEDGER_TAIL_MISSING', ...missing }, message);
  return new GatewayError('LEDGER_TAIL_MISSING', message, hint);
}

function quarantine(options: OpenLedgerOptions, what: string, clock: Clock, cause?: unknown): GatewayError {
  const movedTo = quarantineLedgerFile(options.path, options.quarantineDir, new Date(clock.now()));
  const message = `the ledger at ${options.path} is damaged (${what}); it was moved to ${movedTo}`;
  const hint =
    'Nothing was deleted. Keep the quarantined file for support and do not start a fresh ledger for this box ' +
    'id: the bank would refuse its restarted chain. Restore the ledger from the box backup or contact support ' +
    'with the quarantined file; `sceneway ledger verify --db FILE` shows where it breaks.';
  options.alerts?.raise({ code: 'LEDGER_QUARANTINED', message, hint });
  (options.logger ?? silentLogger).error({ code: 'LEDGER_QUARANTINED', movedTo }, message);
  return new GatewayError('LEDGER_QUARANTINED', message, hint, { cause });
}
