import type { JsonValue } from '@sceneway/cloud-sync';
import type { DeclineReasonName, SaleDecision, VoidRequest } from '@sceneway/device-drivers';
import { saleKey } from './decide-sale.ts';
import { decline, VOIDED_TEXT } from './decline-text.ts';
import {
  isPositiveFen,
  isStale,
  priorDecision,
  type RulesContext,
  remember,
  unansweredAfterSyncFailure,
  veto,
  vetoOf,
} from './rules-context.ts';
import { type ContentDigest, voidContent } from './sale-content.ts';

export const voidKey = (terminalId: string, receiptNo: number) => `void:${terminalId}:${receiptNo}`;

const VOIDED: SaleDecision = { outcome: 'approved', displayText: VOIDED_TEXT };

/**
 * A void reverses one earlier sale of the same terminal, for exactly its amount, once. It is recorded
 * as kind 'void' with a negative amountFen (the reversal, as in the batch test vector) and
 * payload.voidsSeq, and gives the amount back to the card's day total of the sale's day.
 *
 * Voids pass the full-buffer policy: a void hands money back to a diner, and refusing it would leave
 * them charged; the ledger's own disk floor still guards the file. An uploaded offline void is
 * recorded even when it does not match (flags: original-not-found, amount-mismatch, already-voided,
 * and OFFLINE_AFTER_DECLINE when the box had declined it live) for the bank to reconcile, its
 * findings (VOID_NOT_FOUND / VOID_NOT_ALLOWED) told to the till; only a clean void changes the day
 * total. Its identity is (terminal, receipt) with the original receipt and the amount (D29).
 */
export async function decideVoid(
  ctx: RulesContext,
  terminalId: string,
  v: VoidRequest,
  /** The request's content digest, when the caller has it already (canteen-rules.ts). */
  content: ContentDigest = voidContent(ctx.holderDigests, v),
): Promise<SaleDecision> {
  const key = voidKey(terminalId, v.receiptNo);
  const log = {
    terminalId,
    receiptNo: v.receiptNo,
    originalReceiptNo: v.originalReceiptNo,
    offline: v.offline,
  };
  if (!isPositiveFen(v.amountFen)) {
    ctx.logger.warn({ ...log, field: 'amountFen' }, 'canteen: void amount is not a positive integer of fen');
    return decline('SYSTEM_ERROR');
  }
  let declinedOnline: DeclineReasonName | undefined;
  try {
    const prior = await priorDecision(ctx, key, {
      terminalId,
      receiptNo: v.receiptNo,
      what: 'void',
      content,
      offline: v.offline,
      approved: VOIDED,
    });
    if (prior.kind === 'answer') return prior.decision;
    declinedOnline = prior.declinedOnline;
  } catch (error) {
    const unanswered = unansweredAfterSyncFailure(ctx, error, log);
    if (unanswered) return unanswered;
    throw error;
  }
  if (!v.offline && isStale(ctx, v.terminalTime)) {
    ctx.logger.info(
      { ...log, terminalTime: v.terminalTime },
      'canteen: void declined, terminal time outside the request window (stale copy); not recorded',
    );
    return decline('STALE_REQUEST');
  }

  const originalKey = saleKey(terminalId, v.originalReceiptNo);
  const original = ctx.ledger.findByIdempotencyKey(originalKey);
  const flags: string[] = [];
  if (!original) flags.push('original-not-found');
  else if (original.amountFen !== v.amountFen) flags.push('amount-mismatch');
  else if (ctx.store.isVoided(original.seq)) flags.push('already-voided');
  const reason: DeclineReasonName | null =
    flags.length === 0 ? null : original ? 'VOID_NOT_ALLOWED' : 'VOID_NOT_FOUND';
  if (!v.offline && reason) {
    ctx.logger.info({ ...log, reason, why: flags[0] }, 'canteen: void declined');
    return remember(ctx, key, content, decline(reason));
  }
  if (declinedOnline) flags.push('OFFLINE_AFTER_DECLINE');
  const found = [...new Set([...(declinedOnline ? [declinedOnline] : []), ...(reason ? [reason] : [])])];
  const decision: SaleDecision =
    found.length > 0 ? { outcome: 'approved', displayText: VOIDED_TEXT, findings: found } : VOIDED;

  const payload: { [k: string]: JsonValue } = {
    receiptNo: v.receiptNo,
    originalReceiptNo: v.originalReceiptNo,
    voidsSeq: original?.seq ?? null,
    terminalTime: v.terminalTime,
  };
  if (flags.length > 0) payload.flags = flags;
  if (declinedOnline) payload.declinedOnline = declinedOnline;
  const clean = original !== null && flags.length === 0;
  const nowMs = ctx.clock.now();
  try {
    const { duplicate } = await ctx.ledger.append({
      kind: 'void',
      terminalId,
      amountFen: -v.amountFen,
      payload,
      idempotencyKey: key,
      withinCommit: () => {
        const { store } = ctx;
        if (clean && original) {
          // Two voids of one sale racing each other: only the first commit wins.
          if (store.markVoided(original.seq, key)) {
            const sale = store.saleIndex(originalKey);
            if (sale?.holder) store.subtractFromDayTotal(sale.day, sale.holder, sale.amountFen);
          } else if (!v.offline) {
            veto('VOID_NOT_ALLOWED');
          }
        }
        store.recordDecision(key, decision, content, nowMs);
      },
    });
    if (duplicate) {
      const row = ctx.store.decisionRow(key);
      return row?.decision.outcome === 'approved' ? row.decision : VOIDED;
    }
  } catch (error) {
    const refused = vetoOf(error);
    if (refused) return remember(ctx, key, content, refused.decision);
    const unanswered = unansweredAfterSyncFailure(ctx, error, log);
    if (unanswered) return unanswered;
    ctx.logger.error({ ...log, err: error }, 'canteen: recording the void failed; declined');
    return decline('SYSTEM_ERROR');
  }
  if (flags.length > 0) ctx.logger.warn({ ...log, flags }, 'canteen: offline void recorded with flags');
  return decision;
}
