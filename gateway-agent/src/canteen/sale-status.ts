import type { SaleStatus } from '@sceneway/device-drivers';
import { saleKey } from './decide-sale.ts';
import { voidKey } from './decide-void.ts';
import { type RulesContext, unansweredAfterSyncFailure } from './rules-context.ts';

/**
 * What became of a receipt, for a till that got no answer (canteen-pos.md SALE_STATUS): approved when
 * the ledger holds its record (and that record is on disk: an answer a power loss could undo is no
 * answer), declined when a decline is kept for it, unknown otherwise — nothing was charged, and the
 * till may ask again with the same content or give up. A receipt is a sale's or a void's; the caller
 * waits for any decision of it in flight first (canteen-rules.ts).
 *
 * Declines that are kept nowhere (STALE_REQUEST, DUPLICATE_RECEIPT, NO_CREDENTIAL, a full buffer for an
 * upload, a system error) are "unknown" here, which is true: the receipt charged nothing and is free.
 */
export async function saleStatus(
  ctx: RulesContext,
  terminalId: string,
  receiptNo: number,
): Promise<SaleStatus> {
  const keys = [
    { kind: 'sale', key: saleKey(terminalId, receiptNo) },
    { kind: 'void', key: voidKey(terminalId, receiptNo) },
  ] as const;
  for (const { kind, key } of keys) {
    const stored = ctx.ledger.findByIdempotencyKey(key);
    if (!stored) continue;
    try {
      await ctx.ledger.durable();
    } catch (error) {
      const unanswered = unansweredAfterSyncFailure(ctx, error, { terminalId, receiptNo, status: true });
      if (unanswered) return unanswered;
      throw error;
    }
    // A void is stored as the negative reversal; the till asked about the amount it sent.
    return { state: 'approved', kind, amountFen: Math.abs(stored.amountFen ?? 0) };
  }
  for (const { kind, key } of keys) {
    const row = ctx.store.decisionRow(key);
    if (row?.decision.outcome === 'declined') return { state: 'declined', kind, reason: row.decision.reason };
  }
  return { state: 'unknown' };
}
