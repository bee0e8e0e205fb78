import type { SaleDecision } from '@sceneway/device-drivers';
import type Database from 'better-sqlite3';
import type { ContentDigest } from './sale-content.ts';

/**
 * The canteen's own tables, in the ledger's SQLite file. Everything that must agree with the ledger
 * (a card's day total, a used QR token, which sale a void reversed, the approval a retransmission
 * gets) is written through `withinCommit`, i.e. in the very transaction that commits the record:
 * after a crash either both exist or neither does. Holders are SM3 digests (holder-digest.ts).
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS canteen_day_totals (
  day TEXT NOT NULL, holder TEXT NOT NULL, total_fen INTEGER NOT NULL,
  PRIMARY KEY (day, holder)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS canteen_used_qr (
  token_id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, sale_key TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS canteen_sales (
  sale_key TEXT PRIMARY KEY, day TEXT NOT NULL, holder TEXT, amount_fen INTEGER NOT NULL,
  created_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS canteen_voids (
  original_seq INTEGER PRIMARY KEY, void_key TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS canteen_decisions (
  idem_key TEXT PRIMARY KEY, decision TEXT NOT NULL, created_at INTEGER NOT NULL,
  content TEXT) WITHOUT ROWID;
`;

/**
 * Boxes before D29 have canteen_decisions without `content`: the column is added, their rows keep NULL
 * and are judged by the rule they were made under (the amount alone, rules-context.ts).
 */
function addContentColumn(db: Database.Database): void {
  const columns = db.prepare<[], { name: string }>('PRAGMA table_info(canteen_decisions)').all();
  if (!columns.some((c) => c.name === 'content'))
    db.exec('ALTER TABLE canteen_decisions ADD COLUMN content TEXT');
}

export interface SaleIndexRow {
  day: string;
  holder: string | null;
  amountFen: number;
}

/** A decision given for an idempotency key, with the content digest of what was asked (sale-content.ts). */
export interface DecisionRow {
  decision: SaleDecision;
  /** Null on rows from before D29. */
  content: ContentDigest | null;
}

export interface CanteenStore {
  dayTotalFen(day: string, holder: string): number;
  /** Adds to the day total and returns the new total. */
  addToDayTotal(day: string, holder: string, amountFen: number): number;
  subtractFromDayTotal(day: string, holder: string, amountFen: number): void;
  isQrUsed(tokenId: string): boolean;
  /** False when the token was already used: the caller vetoes the sale. */
  markQrUsed(tokenId: string, expiresAt: number, saleKey: string): boolean;
  indexSale(saleKey: string, row: SaleIndexRow, createdAt: number): void;
  saleIndex(saleKey: string): SaleIndexRow | undefined;
  isVoided(originalSeq: number): boolean;
  /** False when the sale was already voided. */
  markVoided(originalSeq: number, voidKey: string): boolean;
  decisionRow(idemKey: string): DecisionRow | undefined;
  /** Keeps a decline for retransmissions; never replaces a decision already kept. */
  cacheDecline(idemKey: string, decision: SaleDecision, content: ContentDigest, at: number): void;
  /**
   * Keeps the decision of a record being committed (called inside withinCommit): it replaces a decline
   * of the same receipt, which an upload of that receipt has now overtaken.
   */
  recordDecision(idemKey: string, decision: SaleDecision, content: ContentDigest, at: number): void;
  /** Drops rows no decision can need any more; called once per local day. */
  prune(opts: { beforeDay: string; nowMs: number }): void;
}

const DAY_MS = 86_400_000;

export function openCanteenStore(db: Database.Database): CanteenStore {
  db.exec(SCHEMA);
  addContentColumn(db);
  const dayTotal = db
    .prepare<[string, string], number>(
      'SELECT total_fen FROM canteen_day_totals WHERE day = ? AND holder = ?',
    )
    .pluck();
  const addTotal = db
    .prepare<[string, string, number], number>(
      `INSERT INTO canteen_day_totals (day, holder, total_fen) VALUES (?, ?, ?)
       ON CONFLICT (day, holder) DO UPDATE SET total_fen = total_fen + excluded.total_fen
       RETURNING total_fen`,
    )
    .pluck();
  const subTotal = db.prepare<[number, string, string]>(
    'UPDATE canteen_day_totals SET total_fen = MAX(0, total_fen - ?) WHERE day = ? AND holder = ?',
  );
  const qrUsed = db.prepare<[string], number>('SELECT 1 FROM canteen_used_qr WHERE token_id = ?').pluck();
  const useQr = db.prepare<[string, number, string]>(
    'INSERT INTO canteen_used_qr (token_id, expires_at, sale_key) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const putSale = db.prepare<[string, string, string | null, number, number]>(
    'INSERT OR IGNORE INTO canteen_sales (sale_key, day, holder, amount_fen, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  const getSale = db.prepare<[string], { day: string; holder: string | null; amount_fen: number }>(
    'SELECT day, holder, amount_fen FROM canteen_sales WHERE sale_key = ?',
  );
  const voided = db.prepare<[number], number>('SELECT 1 FROM canteen_voids WHERE original_seq = ?').pluck();
  const putVoid = db.prepare<[number, string]>(
    'INSERT INTO canteen_voids (original_seq, void_key) VALUES (?, ?) ON CONFLICT DO NOTHING',
  );
  const getDecision = db.prepare<[string], { decision: string; content: string | null }>(
    'SELECT decision, content FROM canteen_decisions WHERE idem_key = ?',
  );
  const putDecline = db.prepare<[string, string, number, string]>(
    'INSERT OR IGNORE INTO canteen_decisions (idem_key, decision, created_at, content) VALUES (?, ?, ?, ?)',
  );
  const putDecision = db.prepare<[string, string, number, string]>(
    'INSERT OR REPLACE INTO canteen_decisions (idem_key, decision, created_at, content) VALUES (?, ?, ?, ?)',
  );
  const pruneDays = db.prepare<[string]>('DELETE FROM canteen_day_totals WHERE day < ?');
  const pruneByTime = [
    // A token can only be replayed until it expires; a day of margin covers terminal clock skew.
    db.prepare<[number]>(`DELETE FROM canteen_used_qr WHERE expires_at * 1000 < ? - ${DAY_MS}`),
    // Voids come the same day in practice; a month keeps the day-total link for late ones.
    db.prepare<[number]>(`DELETE FROM canteen_sales WHERE created_at < ? - ${31 * DAY_MS}`),
    // A decline is asked again by retransmissions and uploads (seconds to days later).
    db.prepare<[number]>(
      `DELETE FROM canteen_decisions WHERE created_at < ? - ${2 * DAY_MS} AND json_extract(decision, '$.outcome') = 'declined'`,
    ),
    // An approval's digest is what tells a retransmission from a reused receipt (D29): a till that lost
    // its counter starts again at receipt 1, months later. Kept a year; older rows fall back to the
    // amount rule, like rows from before D29.
    db.prepare<[number]>(`DELETE FROM canteen_decisions WHERE created_at < ? - ${366 * DAY_MS}`),
  ];

  return {
    dayTotalFen: (day, holder) => dayTotal.get(day, holder) ?? 0,
    addToDayTotal: (day, holder, amountFen) => addTotal.get(day, holder, amountFen) ?? amountFen,
    subtractFromDayTotal: (day, holder, amountFen) => {
      subTotal.run(amountFen, day, holder);
    },
    isQrUsed: (tokenId) => qrUsed.get(tokenId) !== undefined,
    markQrUsed: (tokenId, expiresAt, saleKey) => useQr.run(tokenId, expiresAt, saleKey).changes === 1,
    indexSale: (saleKey, row, createdAt) => {
      putSale.run(saleKey, row.day, row.holder, row.amountFen, createdAt);
    },
    saleIndex: (saleKey) => {
      const r = getSale.get(saleKey);
      return r && { day: r.day, holder: r.holder, amountFen: r.amount_fen };
    },
    isVoided: (seq) => voided.get(seq) !== undefined,
    markVoided: (seq, voidKey) => putVoid.run(seq, voidKey).changes === 1,
    decisionRow: (key) => {
      const row = getDecision.get(key);
      return row && { decision: JSON.parse(row.decision) as SaleDecision, content: row.content };
    },
    cacheDecline: (key, decision, content, at) => {
      putDecline.run(key, JSON.stringify(decision), at, content);
    },
    recordDecision: (key, decision, content, at) => {
      putDecision.run(key, JSON.stringify(decision), at, content);
    },
    prune: ({ beforeDay, nowMs }) => {
      db.transaction(() => {
        pruneDays.run(beforeDay);
        for (const s of pruneByTime) s.run(nowMs);
      })();
    },
  };
}
