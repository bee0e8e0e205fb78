import { describe, expect, it } from 'vitest';
import { DECLINE_TEXT } from './decline-text.ts';
import { BACKLOG_ALERT, DISK_ALERT } from './full-buffer.ts';
import {
  acknowledgeOldest,
  cardSale,
  DIGESTS,
  LIMITS,
  NOON,
  openCanteen,
  qrSale,
  qrToken,
  recordsOf,
  signedForBox,
  voidOf,
} from './test-support.ts';

const CARD = 'A1B2C3D4';
const dayTotal = (c: ReturnType<typeof openCanteen>, uid: string) =>
  c.ledger.db
    .prepare('SELECT SUM(total_fen) FROM canteen_day_totals WHERE holder = ?')
    .pluck()
    .get(DIGESTS.card(uid));

describe('full-buffer policy', () => {
  it('declines new sales at the backlog ceiling with a clear reason and alert, loses nothing, and recovers', async () => {
    const c = openCanteen({ limits: { maxUnsyncedRecords: 3 } });
    for (let i = 0; i < 3; i++) {
      await expect(c.rules.decideSale('pos-1', cardSale(CARD, 100))).resolves.toMatchObject({
        outcome: 'approved',
      });
    }
    const refused = cardSale(CARD, 100);
    await expect(c.rules.decideSale('pos-1', refused)).resolves.toEqual({
      outcome: 'declined',
      reason: 'OFFLINE_LIMIT_REACHED',
      displayText: DECLINE_TEXT.OFFLINE_LIMIT_REACHED,
    });
    expect(c.alerts.get(BACKLOG_ALERT)).toMatch(/3 records wait for the bank \(ceiling 3\)/);
    // An upload the terminal approved alone is refused too, but not remembered: it stays on the
    // terminal and is recorded when it comes again after recovery.
    const upload = cardSale(CARD, 200, { offline: true });
    await expect(c.rules.decideSale('pos-1', upload)).resolves.toMatchObject({
      reason: 'OFFLINE_LIMIT_REACHED',
    });
    expect(recordsOf(c.ledger)).toHaveLength(3);

    acknowledgeOldest(c.ledger, 1);
    await expect(c.rules.decideSale('pos-1', upload)).resolves.toMatchObject({ outcome: 'approved' });
    expect(c.alerts.has(BACKLOG_ALERT)).toBe(false);
    await expect(c.rules.decideSale('pos-1', refused)).resolves.toMatchObject({
      reason: 'OFFLINE_LIMIT_REACHED',
    });
    expect(recordsOf(c.ledger).map((r) => r.kind)).toEqual(['sale', 'sale', 'sale', 'offline-sale']);
  });

  it('declines below the free-disk floor and resumes when space is back', async () => {
    const c = openCanteen();
    c.knobs.freeMb = LIMITS.minFreeDiskMb - 1;
    await expect(c.rules.decideSale('pos-1', cardSale(CARD, 100))).resolves.toMatchObject({
      reason: 'OFFLINE_LIMIT_REACHED',
    });
    expect(c.alerts.get(DISK_ALERT)).toMatch(/99 MiB free disk \(floor 100 MiB\)/);
    c.knobs.freeMb = LIMITS.minFreeDiskMb + 50;
    await expect(c.rules.decideSale('pos-1', cardSale(CARD, 100))).resolves.toMatchObject({
      outcome: 'approved',
    });
    expect(c.alerts.size).toBe(0);
  });
});

describe('offline uploads', () => {
  it('records every sale the terminal already approved, flagging the rules it broke', async () => {
    const c = openCanteen();
    c.rules.applyBlacklist(
      signedForBox({
        kind: 'full',
        version: 1,
        issuedAt: '2026-03-01T00:00:00Z',
        add: [DIGESTS.card('DEADBEEF')],
        remove: [],
      }),
    );
    const used = qrToken();
    await c.rules.decideSale('pos-1', qrSale(used, 100));
    const expired = qrToken({ expiresAt: Math.floor(NOON / 1000) - 600 });
    const uploads = [
      cardSale('DEADBEEF', 300, { offline: true }),
      cardSale(CARD, LIMITS.perTransactionLimitFen + 500, { offline: true }),
      cardSale(CARD, LIMITS.perTransactionLimitFen, { offline: true }),
      qrSale(used, 100, { offline: true }),
      qrSale(expired, 100, { offline: true }),
      qrSale('SWQ1.forged.token', 100, { offline: true }),
    ];
    for (const u of uploads) {
      await expect(c.rules.decideSale('pos-1', u)).resolves.toMatchObject({ outcome: 'approved' });
    }
    const flags = recordsOf(c.ledger)
      .slice(1)
      .map((r) => [r.kind, r.payload.flags]);
    expect(flags).toEqual([
      ['offline-sale', ['OFFLINE_BLACKLISTED']],
      ['offline-sale', ['OFFLINE_OVER_LIMIT', 'OFFLINE_FLOOR_LIMIT']],
      ['offline-sale', ['OFFLINE_FLOOR_LIMIT', 'OFFLINE_DAILY_LIMIT']],
      ['offline-sale', ['OFFLINE_QR_REUSED']],
      ['offline-sale', ['OFFLINE_QR_EXPIRED']],
      ['offline-sale', ['OFFLINE_QR_BAD_SIGNATURE']],
    ]);
    // The uploads count towards the day: a live sale now meets the limit they used up.
    expect(dayTotal(c, CARD)).toBe(LIMITS.perTransactionLimitFen * 2 + 500);
    await expect(c.rules.decideSale('pos-1', cardSale(CARD, 100))).resolves.toMatchObject({
      reason: 'DAILY_LIMIT',
    });
    // A re-upload is a duplicate: answered, not recorded again.
    await expect(c.rules.decideSale('pos-1', uploads[0]!)).resolves.toMatchObject({ outcome: 'approved' });
    expect(recordsOf(c.ledger)).toHaveLength(1 + uploads.length);
  });

  it('records an upload of a sale the box had declined live once, with the live reason first in its findings', async () => {
    const c = openCanteen();
    const sale = cardSale(CARD, LIMITS.perTransactionLimitFen + 1);
    await expect(c.rules.decideSale('pos-1', sale)).resolves.toMatchObject({ reason: 'INSUFFICIENT_LIMIT' });
    const upload = { ...sale, offline: true, terminalTime: sale.terminalTime + 5 };
    const recorded = {
      outcome: 'approved',
      findings: ['INSUFFICIENT_LIMIT', 'FLOOR_LIMIT'],
    };
    await expect(c.rules.decideSale('pos-1', upload)).resolves.toMatchObject(recorded);
    expect(recordsOf(c.ledger)).toEqual([
      expect.objectContaining({
        kind: 'offline-sale',
        payload: expect.objectContaining({
          flags: ['OFFLINE_AFTER_DECLINE', 'OFFLINE_OVER_LIMIT', 'OFFLINE_FLOOR_LIMIT'],
          declinedOnline: 'INSUFFICIENT_LIMIT',
        }),
      }),
    ]);
    expect(c.alerts.get('CANTEEN_OFFLINE_RISK')).toMatch(/Till pos-1 .*receipt \d+: OFFLINE_AFTER_DECLINE/);
    // The upload again, and the live request again: the recorded upload answers both, once.
    await expect(c.rules.decideSale('pos-1', upload)).resolves.toMatchObject(recorded);
    await expect(c.rules.decideSale('pos-1', sale)).resolves.toMatchObject(recorded);
    expect(recordsOf(c.ledger)).toHaveLength(1);
  });

  it('refuses an upload whose receipt was declined live for another card: DUPLICATE_RECEIPT, nothing recorded', async () => {
    const c = openCanteen();
    const sale = cardSale(CARD, LIMITS.perTransactionLimitFen + 1);
    await c.rules.decideSale('pos-1', sale);
    const other = { ...sale, credential: { kind: 'card' as const, uidHex: '11223344' }, offline: true };
    await expect(c.rules.decideSale('pos-1', other)).resolves.toMatchObject({ reason: 'DUPLICATE_RECEIPT' });
    expect(recordsOf(c.ledger)).toHaveLength(0);
    expect(c.alerts.get('CANTEEN_RECEIPT_REUSED')).toMatch(/Till pos-1 sent receipt \d+ again/);
  });

  it('answers an upload of a receipt approved live from that approval, never a second record', async () => {
    const c = openCanteen();
    const sale = cardSale(CARD, 300);
    await expect(c.rules.decideSale('pos-1', sale)).resolves.toEqual({
      outcome: 'approved',
      displayText: expect.any(String),
    });
    await expect(c.rules.decideSale('pos-1', { ...sale, offline: true })).resolves.toEqual({
      outcome: 'approved',
      displayText: expect.any(String),
    });
    // The same receipt uploaded for another card is a reused receipt, not that approval.
    const other = { ...sale, credential: { kind: 'card' as const, uidHex: '11223344' }, offline: true };
    await expect(c.rules.decideSale('pos-1', other)).resolves.toMatchObject({ reason: 'DUPLICATE_RECEIPT' });
    expect(recordsOf(c.ledger).map((r) => r.kind)).toEqual(['sale']);
    expect(dayTotal(c, CARD)).toBe(300);
  });

  it('records a blacklisted card in an upload, flagged for the bank and named to the till, with a risk alert', async () => {
    const c = openCanteen();
    c.rules.applyBlacklist(
      signedForBox({
        kind: 'full',
        version: 1,
        issuedAt: '2026-03-01T00:00:00Z',
        add: [DIGESTS.card('DEADBEEF')],
        remove: [],
      }),
    );
    const upload = cardSale('DEADBEEF', 300, { offline: true });
    await expect(c.rules.decideSale('pos-1', upload)).resolves.toMatchObject({
      outcome: 'approved',
      findings: ['BLACKLISTED'],
    });
    expect(recordsOf(c.ledger)).toEqual([
      expect.objectContaining({
        kind: 'offline-sale',
        amountFen: 300,
        payload: expect.objectContaining({ flags: ['OFFLINE_BLACKLISTED'] }),
      }),
    ]);
    const alert = c.alerts.get('CANTEEN_OFFLINE_RISK') ?? '';
    expect(alert).toMatch(/OFFLINE_BLACKLISTED/);
    expect(alert).not.toMatch(/DEADBEEF/i);
    // A clean upload carries no findings.
    await expect(
      c.rules.decideSale('pos-1', cardSale(CARD, 300, { offline: true })),
    ).resolves.not.toHaveProperty('findings');
  });

  it('counts an upload on the day the terminal sold it, unless the terminal clock is implausible', async () => {
    const c = openCanteen();
    const yesterday = Math.floor(NOON / 1000) - 86_400;
    await c.rules.decideSale('pos-1', cardSale(CARD, 700, { offline: true, terminalTime: yesterday }));
    await c.rules.decideSale('pos-1', cardSale(CARD, 800, { offline: true, terminalTime: 0 }));
    const days = c.ledger.db.prepare('SELECT day, total_fen FROM canteen_day_totals ORDER BY day').all();
    expect(days).toEqual([
      { day: '2026-03-01', total_fen: 700 },
      { day: '2026-03-02', total_fen: 800 },
    ]);
    expect(recordsOf(c.ledger)[1]?.payload.flags).toEqual(['terminal-clock-suspect']);
  });
});

describe('voids', () => {
  it('reverses a sale once, for its exact amount, and gives the amount back to the day total', async () => {
    const c = openCanteen();
    const sale = cardSale(CARD, 5_000);
    await c.rules.decideSale('pos-1', sale);
    await c.rules.decideSale('pos-1', cardSale(CARD, 5_000));
    await expect(c.rules.decideSale('pos-1', cardSale(CARD, 100))).resolves.toMatchObject({
      reason: 'DAILY_LIMIT',
    });

    await expect(c.rules.decideVoid('pos-1', voidOf(sale, { amountFen: 4_999 }))).resolves.toMatchObject({
      reason: 'VOID_NOT_ALLOWED',
    });
    const v = voidOf(sale);
    await expect(c.rules.decideVoid('pos-1', v)).resolves.toMatchObject({ outcome: 'approved' });
    await expect(c.rules.decideVoid('pos-1', v)).resolves.toMatchObject({ outcome: 'approved' });
    await expect(c.rules.decideVoid('pos-1', voidOf(sale))).resolves.toMatchObject({
      reason: 'VOID_NOT_ALLOWED',
    });
    await expect(c.rules.decideVoid('pos-2', voidOf(sale))).resolves.toMatchObject({
      reason: 'VOID_NOT_FOUND',
    });

    const original = c.ledger.findByIdempotencyKey(`sale:pos-1:${sale.receiptNo}`);
    const voidRecord = c.ledger.findByIdempotencyKey(`void:pos-1:${v.receiptNo}`);
    expect(voidRecord).toMatchObject({
      kind: 'void',
      amountFen: -5_000,
      payload: { voidsSeq: original?.seq },
    });
    expect(recordsOf(c.ledger)).toHaveLength(3);
    expect(dayTotal(c, CARD)).toBe(5_000);
    await expect(c.rules.decideSale('pos-1', cardSale(CARD, 100))).resolves.toMatchObject({
      outcome: 'approved',
    });
  });

  it('lets only one of two concurrent voids of a sale through', async () => {
    const c = openCanteen();
    const sale = cardSale(CARD, 600);
    await c.rules.decideSale('pos-1', sale);
    const [a, b] = await Promise.all([
      c.rules.decideVoid('pos-1', voidOf(sale)),
      c.rules.decideVoid('pos-1', voidOf(sale)),
    ]);
    expect([a.outcome, b.outcome].sort()).toEqual(['approved', 'declined']);
    expect(dayTotal(c, CARD)).toBe(0);
  });

  it('records an uploaded offline void even when its sale is unknown, flagged', async () => {
    const c = openCanteen();
    const orphan = voidOf(cardSale(CARD, 300), { offline: true });
    await expect(c.rules.decideVoid('pos-1', orphan)).resolves.toMatchObject({ outcome: 'approved' });
    expect(recordsOf(c.ledger)[0]).toMatchObject({
      kind: 'void',
      amountFen: -300,
      payload: { voidsSeq: null, flags: ['original-not-found'] },
    });
  });
});
