import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { legacyHolderDigests } from './holder-digest.ts';
import { RECEIPT_REUSED_ALERT } from './rules-context.ts';
import {
  cardSale,
  DIGESTS,
  LIMITS,
  NOON,
  openCanteen,
  qrSale,
  qrToken,
  recordsOf,
  voidOf,
} from './test-support.ts';

/** docs/decisions.md D29: a sale is (terminal, receipt) and what was asked; a status is from the ledger. */
const CARD = 'A1B2C3D4';
const OTHER = '11223344';
const card = (uidHex: string) => ({ kind: 'card' as const, uidHex });
const decisionRows = (c: ReturnType<typeof openCanteen>) =>
  c.ledger.db.prepare('SELECT idem_key, decision, content FROM canteen_decisions').all() as {
    idem_key: string;
    decision: string;
    content: string | null;
  }[];

describe('a receipt is its content', () => {
  it('declines a receipt reused with the same amount but another card: DUPLICATE_RECEIPT, nothing recorded, an alert', async () => {
    const c = openCanteen();
    const first = cardSale(CARD, 800);
    await expect(c.rules.decideSale('pos-1', first)).resolves.toMatchObject({ outcome: 'approved' });
    const reused = { ...first, credential: card(OTHER) };
    await expect(c.rules.decideSale('pos-1', reused)).resolves.toMatchObject({
      outcome: 'declined',
      reason: 'DUPLICATE_RECEIPT',
    });
    expect(recordsOf(c.ledger)).toHaveLength(1);
    const alert = c.alerts.get(RECEIPT_REUSED_ALERT) ?? '';
    expect(alert).toMatch(
      new RegExp(`Till pos-1 sent receipt ${first.receiptNo} again for a different sale`),
    );
    expect(alert).not.toContain(OTHER);
    expect(alert).not.toContain(CARD);
    // Nothing of the refused sale is kept: not its decline, not its card's day total.
    expect(decisionRows(c)).toHaveLength(1);
    expect(
      c.ledger.db
        .prepare('SELECT COUNT(*) FROM canteen_day_totals WHERE holder = ?')
        .pluck()
        .get(DIGESTS.card(OTHER)),
    ).toBe(0);
    // The first card's retransmission still gets its approval.
    await expect(c.rules.decideSale('pos-1', first)).resolves.toMatchObject({ outcome: 'approved' });
  });

  it('answers the same receipt and content with the first decision, whatever its clock or offline flag say', async () => {
    const c = openCanteen();
    const declined = cardSale(CARD, LIMITS.perTransactionLimitFen + 1);
    await expect(c.rules.decideSale('pos-1', declined)).resolves.toMatchObject({
      reason: 'INSUFFICIENT_LIMIT',
    });
    await expect(
      c.rules.decideSale('pos-1', { ...declined, terminalTime: declined.terminalTime + 3 }),
    ).resolves.toMatchObject({ reason: 'INSUFFICIENT_LIMIT' });
    const sale = cardSale(CARD, 800);
    const a = await c.rules.decideSale('pos-1', sale);
    await expect(
      c.rules.decideSale('pos-1', { ...sale, terminalTime: sale.terminalTime + 2 }),
    ).resolves.toEqual(a);
    // A card UID in lower case is the same card.
    await expect(
      c.rules.decideSale('pos-1', { ...sale, credential: card(CARD.toLowerCase()) }),
    ).resolves.toEqual(a);
    expect(recordsOf(c.ledger)).toHaveLength(1);
  });

  it('tells a QR payment from a card payment of the same amount under one receipt', async () => {
    const c = openCanteen();
    const byCard = cardSale(CARD, 500);
    await c.rules.decideSale('pos-1', byCard);
    const byQr = { ...qrSale(qrToken(), 500), receiptNo: byCard.receiptNo };
    await expect(c.rules.decideSale('pos-1', byQr)).resolves.toMatchObject({ reason: 'DUPLICATE_RECEIPT' });
    // And the other way round: a QR sale first, then its receipt with another token.
    const paid = qrSale(qrToken(), 500);
    await expect(c.rules.decideSale('pos-1', paid)).resolves.toMatchObject({ outcome: 'approved' });
    await expect(c.rules.decideSale('pos-1', paid)).resolves.toMatchObject({ outcome: 'approved' });
    await expect(
      c.rules.decideSale('pos-1', { ...qrSale(qrToken(), 500), receiptNo: paid.receiptNo }),
    ).resolves.toMatchObject({ reason: 'DUPLICATE_RECEIPT' });
    await expect(
      c.rules.decideSale('pos-1', { ...cardSale(CARD, 500), receiptNo: paid.receiptNo }),
    ).resolves.toMatchObject({ reason: 'DUPLICATE_RECEIPT' });
    expect(recordsOf(c.ledger).map((r) => r.payload.method)).toEqual(['card', 'qr']);
  });

  it('declines a reused receipt whose first sale was declined, and keeps the stored digest free of the card', async () => {
    const c = openCanteen();
    const first = cardSale(CARD, LIMITS.perTransactionLimitFen + 1);
    await c.rules.decideSale('pos-1', first);
    await expect(c.rules.decideSale('pos-1', { ...first, credential: card(OTHER) })).resolves.toMatchObject({
      reason: 'DUPLICATE_RECEIPT',
    });
    expect(recordsOf(c.ledger)).toHaveLength(0);
    const [row] = decisionRows(c);
    expect(row?.content).toMatch(new RegExp(`^${DIGESTS.id}\\|[0-9a-f]{64}$`));
    expect(JSON.stringify(row)).not.toContain(CARD);
  });

  it('joins a retransmission to the decision in flight, and decides a reused receipt against it', async () => {
    const c = openCanteen();
    const sale = cardSale(CARD, 800);
    const [a, b, reused] = await Promise.all([
      c.rules.decideSale('pos-1', sale),
      c.rules.decideSale('pos-1', sale),
      c.rules.decideSale('pos-1', { ...sale, credential: card(OTHER) }),
    ]);
    expect([a.outcome, b.outcome]).toEqual(['approved', 'approved']);
    expect(reused).toMatchObject({ reason: 'DUPLICATE_RECEIPT' });
    expect(recordsOf(c.ledger)).toHaveLength(1);
  });

  it('gives a void the same identity: original receipt and amount', async () => {
    const c = openCanteen();
    const a = cardSale(CARD, 600);
    const b = cardSale(CARD, 600);
    await c.rules.decideSale('pos-1', a);
    await c.rules.decideSale('pos-1', b);
    const v = voidOf(a);
    await expect(c.rules.decideVoid('pos-1', v)).resolves.toMatchObject({ outcome: 'approved' });
    await expect(c.rules.decideVoid('pos-1', v)).resolves.toMatchObject({ outcome: 'approved' });
    await expect(
      c.rules.decideVoid('pos-1', { ...v, originalReceiptNo: b.receiptNo }),
    ).resolves.toMatchObject({ reason: 'DUPLICATE_RECEIPT' });
    expect(recordsOf(c.ledger).map((r) => r.kind)).toEqual(['sale', 'sale', 'void']);
    expect(c.alerts.get(RECEIPT_REUSED_ALERT)).toMatch(/different void/);
  });

  it('judges decisions kept before content digests by the amount, as they were made', async () => {
    const c = openCanteen();
    const sale = cardSale(CARD, 800);
    await c.rules.decideSale('pos-1', sale);
    const declined = cardSale(CARD, LIMITS.perTransactionLimitFen + 1);
    await c.rules.decideSale('pos-1', declined);
    // What a box before D29 has: rows without a digest.
    c.ledger.db.exec('UPDATE canteen_decisions SET content = NULL');
    await expect(c.rules.decideSale('pos-1', { ...sale, credential: card(OTHER) })).resolves.toMatchObject({
      outcome: 'approved',
    });
    await expect(c.rules.decideSale('pos-1', { ...sale, amountFen: 900 })).resolves.toMatchObject({
      reason: 'DUPLICATE_RECEIPT',
    });
    await expect(
      c.rules.decideSale('pos-1', { ...declined, credential: card(OTHER) }),
    ).resolves.toMatchObject({ reason: 'INSUFFICIENT_LIMIT' });
    expect(recordsOf(c.ledger)).toHaveLength(1);
  });

  it('adds the digest column to a store made before it, keeping its rows', async () => {
    const c = openCanteen();
    const sale = cardSale(CARD, 800);
    await c.rules.decideSale('pos-1', sale);
    c.ledger.db.exec(`
      CREATE TABLE old_decisions (idem_key TEXT PRIMARY KEY, decision TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO old_decisions SELECT idem_key, decision, created_at FROM canteen_decisions;
      DROP TABLE canteen_decisions;
      ALTER TABLE old_decisions RENAME TO canteen_decisions;`);
    const reopened = await c.reopen();
    expect(decisionRows(reopened)).toEqual([expect.objectContaining({ content: null })]);
    await expect(reopened.rules.decideSale('pos-1', sale)).resolves.toMatchObject({ outcome: 'approved' });
    const next = cardSale(CARD, 800);
    await reopened.rules.decideSale('pos-1', next);
    await expect(
      reopened.rules.decideSale('pos-1', { ...next, credential: card(OTHER) }),
    ).resolves.toMatchObject({ reason: 'DUPLICATE_RECEIPT' });
  });
});

describe('kept digests over time', () => {
  it('judges a digest made under another holder key (a box that imported its key since) by the amount', async () => {
    const before = openCanteen({ holderDigests: legacyHolderDigests });
    const sale = cardSale(CARD, 800);
    await before.rules.decideSale('pos-1', sale);
    await before.ledger.close();
    const now = openCanteen({ path: before.path });
    await expect(now.rules.decideSale('pos-1', sale)).resolves.toMatchObject({ outcome: 'approved' });
    await expect(now.rules.decideSale('pos-1', { ...sale, credential: card(OTHER) })).resolves.toMatchObject({
      outcome: 'approved',
    });
    await expect(now.rules.decideSale('pos-1', { ...sale, amountFen: 801 })).resolves.toMatchObject({
      reason: 'DUPLICATE_RECEIPT',
    });
    expect(recordsOf(now.ledger)).toHaveLength(1);
  });

  it('forgets declines after two days but keeps the digest of an approval for the reused receipts of a reset till', async () => {
    const c = openCanteen();
    const sale = cardSale(CARD, 800);
    await c.rules.decideSale('pos-1', sale);
    const declined = cardSale(CARD, LIMITS.perTransactionLimitFen + 1);
    await c.rules.decideSale('pos-1', declined);
    c.clock.set(NOON + 3 * 86_400_000);
    const later = { terminalTime: Math.floor(c.clock.now() / 1000) };
    // Any decision of the new day prunes.
    await c.rules.decideSale('pos-1', cardSale(CARD, 100, later));
    expect(decisionRows(c).map((r) => r.idem_key)).not.toContain(`sale:pos-1:${declined.receiptNo}`);
    await expect(
      c.rules.decideSale('pos-1', { ...sale, ...later, credential: card(OTHER) }),
    ).resolves.toMatchObject({ reason: 'DUPLICATE_RECEIPT' });
  });
});

describe('stale requests', () => {
  it('declines a live sale older than the window STALE_REQUEST, keeps nothing, and takes the receipt again fresh', async () => {
    const c = openCanteen({ maxRequestAgeSeconds: 30 });
    const nowS = Math.floor(NOON / 1000);
    const stale = cardSale(CARD, 800, { terminalTime: nowS - 31 });
    await expect(c.rules.decideSale('pos-1', stale)).resolves.toMatchObject({ reason: 'STALE_REQUEST' });
    expect(recordsOf(c.ledger)).toHaveLength(0);
    expect(decisionRows(c)).toHaveLength(0);
    await expect(c.rules.saleStatus('pos-1', stale.receiptNo)).resolves.toEqual({ state: 'unknown' });
    // Inside the window (its edge included) it is a sale.
    await expect(c.rules.decideSale('pos-1', { ...stale, terminalTime: nowS - 30 })).resolves.toMatchObject({
      outcome: 'approved',
    });
    // A stale copy of a sale already decided gets that decision: it was charged.
    await expect(c.rules.decideSale('pos-1', stale)).resolves.toMatchObject({ outcome: 'approved' });
    // Uploads are old by nature: not stale.
    await expect(
      c.rules.decideSale('pos-1', cardSale(CARD, 100, { offline: true, terminalTime: nowS - 3600 })),
    ).resolves.toMatchObject({ outcome: 'approved' });
    expect(recordsOf(c.ledger)).toHaveLength(2);
  });

  it('declines a stale live void the same way', async () => {
    const c = openCanteen({ maxRequestAgeSeconds: 10 });
    const sale = cardSale(CARD, 800);
    await c.rules.decideSale('pos-1', sale);
    const v = voidOf(sale, { terminalTime: sale.terminalTime - 11 });
    await expect(c.rules.decideVoid('pos-1', v)).resolves.toMatchObject({ reason: 'STALE_REQUEST' });
    await expect(
      c.rules.decideVoid('pos-1', { ...v, terminalTime: sale.terminalTime }),
    ).resolves.toMatchObject({ outcome: 'approved' });
  });
});

describe('sale status', () => {
  it('answers approved, declined or unknown from what the box kept, for sales and voids', async () => {
    const c = openCanteen();
    const sale = cardSale(CARD, 800);
    await c.rules.decideSale('pos-1', sale);
    const declined = cardSale(CARD, LIMITS.perTransactionLimitFen + 1);
    await c.rules.decideSale('pos-1', declined);
    const v = voidOf(sale);
    await c.rules.decideVoid('pos-1', v);
    await expect(c.rules.saleStatus('pos-1', sale.receiptNo)).resolves.toEqual({
      state: 'approved',
      kind: 'sale',
      amountFen: 800,
    });
    await expect(c.rules.saleStatus('pos-1', declined.receiptNo)).resolves.toEqual({
      state: 'declined',
      kind: 'sale',
      reason: 'INSUFFICIENT_LIMIT',
    });
    await expect(c.rules.saleStatus('pos-1', v.receiptNo)).resolves.toEqual({
      state: 'approved',
      kind: 'void',
      amountFen: 800,
    });
    await expect(c.rules.saleStatus('pos-1', 999_999)).resolves.toEqual({ state: 'unknown' });
    // Receipts are the terminal's own.
    await expect(c.rules.saleStatus('pos-2', sale.receiptNo)).resolves.toEqual({ state: 'unknown' });
  });

  it('waits for a decision in flight before answering', async () => {
    const c = openCanteen();
    const sale = cardSale(CARD, 800);
    const decision = c.rules.decideSale('pos-1', sale);
    const status = c.rules.saleStatus('pos-1', sale.receiptNo);
    await expect(status).resolves.toEqual({ state: 'approved', kind: 'sale', amountFen: 800 });
    await expect(decision).resolves.toMatchObject({ outcome: 'approved' });
  });

  it('answers a sale committed before a restart from the ledger of the restarted box', async () => {
    const c = openCanteen();
    const sale = cardSale(CARD, 800);
    await c.rules.decideSale('pos-1', sale);
    const restarted = await c.reopen();
    await expect(restarted.rules.saleStatus('pos-1', sale.receiptNo)).resolves.toEqual({
      state: 'approved',
      kind: 'sale',
      amountFen: 800,
    });
  });
});

describe('a zero amount', () => {
  it('is a field error of the till: declined, recorded nowhere, logged at warn naming the field, not error', async () => {
    const lines: { level: number; field?: string; msg: string }[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const c = openCanteen({ logger });
    await expect(c.rules.decideSale('pos-1', cardSale(CARD, 0))).resolves.toMatchObject({
      outcome: 'declined',
    });
    const sale = cardSale(CARD, 300);
    await c.rules.decideSale('pos-1', sale);
    await expect(c.rules.decideVoid('pos-1', voidOf(sale, { amountFen: 0 }))).resolves.toMatchObject({
      outcome: 'declined',
    });
    expect(recordsOf(c.ledger)).toHaveLength(1);
    expect(decisionRows(c)).toHaveLength(1);
    const amountLines = lines.filter((l) => l.field === 'amountFen');
    expect(amountLines.map((l) => l.level)).toEqual([40, 40]);
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  });
});
