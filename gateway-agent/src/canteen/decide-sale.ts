import type { JsonValue } from '@sceneway/cloud-sync';
import type { DeclineReasonName, SaleDecision, SaleRequest } from '@sceneway/device-drivers';
import { APPROVED_TEXT, decline } from './decline-text.ts';
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
import { checkSale, type OfflineFlag } from './sale-checks.ts';
import { type ContentDigest, saleContent } from './sale-content.ts';

const APPROVED: SaleDecision = { outcome: 'approved', displayText: APPROVED_TEXT };
/** An upload's own sale time is believed within this window; outside it the terminal clock is off. */
const UPLOAD_PAST_MS = 35 * 86_400_000;
const UPLOAD_FUTURE_MS = 10 * 60_000;
/** Not a broken rule but a record whose sale time is the box's, not the till's: the bank should know. */
export const CLOCK_SUSPECT_FLAG = 'terminal-clock-suspect';
/** Raised when an upload is recorded with findings: a card the till should not have approved alone. */
export const OFFLINE_RISK_ALERT = 'CANTEEN_OFFLINE_RISK';

export const saleKey = (terminalId: string, receiptNo: number) => `sale:${terminalId}:${receiptNo}`;

/**
 * One sale, live or uploaded. A live sale is declined for the first rule it breaks. An offline upload
 * is a sale the terminal already approved — the food is eaten — so it is recorded (kind
 * 'offline-sale') after the very checks a live sale meets, every broken rule a payload flag for the
 * bank and a finding in the answer, so the till stops approving that card alone (docs/decisions.md
 * D29). Either way the decision is returned only after the record is durable (DESIGN invariant 1).
 */
export async function decideSale(
  ctx: RulesContext,
  terminalId: string,
  sale: SaleRequest,
  /** The request's content digest, when the caller has it already (canteen-rules.ts). */
  content: ContentDigest = saleContent(ctx.holderDigests, sale),
): Promise<SaleDecision> {
  const key = saleKey(terminalId, sale.receiptNo);
  const log = { terminalId, receiptNo: sale.receiptNo, amountFen: sale.amountFen, offline: sale.offline };
  if (!isPositiveFen(sale.amountFen)) {
    // A field the till got wrong (the driver NAKs it at the wire already): not a fault of the box.
    ctx.logger.warn({ ...log, field: 'amountFen' }, 'canteen: sale amount is not a positive integer of fen');
    return decline('SYSTEM_ERROR');
  }
  let declinedOnline: DeclineReasonName | undefined;
  try {
    const prior = await priorDecision(ctx, key, {
      terminalId,
      receiptNo: sale.receiptNo,
      what: 'sale',
      content,
      offline: sale.offline,
      approved: APPROVED,
      amountFen: sale.amountFen,
    });
    if (prior.kind === 'answer') return prior.decision;
    declinedOnline = prior.declinedOnline;
  } catch (error) {
    const unanswered = unansweredAfterSyncFailure(ctx, error, log);
    if (unanswered) return unanswered;
    throw error;
  }
  // Only a new decision can be stale: a copy of a decided sale gets that decision (it may be charged).
  if (!sale.offline && isStale(ctx, sale.terminalTime)) {
    ctx.logger.info(
      { ...log, terminalTime: sale.terminalTime },
      'canteen: sale declined, terminal time outside the request window (stale copy); not recorded',
    );
    return decline('STALE_REQUEST');
  }
  // A till without its own reader: the card comes from the reader bound to it, taken only now that the
  // sale is known to be new (a retransmission above must not use up the next diner's card).
  const credential = sale.credential ?? ctx.takeBoundCredential(terminalId);
  if (!credential) {
    ctx.logger.info(log, 'canteen: sale declined, no card presented on the bound reader');
    return decline('NO_CREDENTIAL');
  }

  const full = ctx.fullBuffer.check();
  if (full) {
    ctx.logger.warn({ ...log, why: full }, 'canteen: sale declined, offline limit reached');
    // An upload declined here stays on the terminal and comes again: caching it would lose it.
    return sale.offline
      ? decline('OFFLINE_LIMIT_REACHED')
      : remember(ctx, key, content, decline('OFFLINE_LIMIT_REACHED'));
  }

  const nowMs = ctx.clock.now();
  const flags: (OfflineFlag | typeof CLOCK_SUSPECT_FLAG)[] = [];
  let atMs = nowMs;
  if (sale.offline) {
    const terminalMs = sale.terminalTime * 1000;
    if (terminalMs >= nowMs - UPLOAD_PAST_MS && terminalMs <= nowMs + UPLOAD_FUTURE_MS) atMs = terminalMs;
    else flags.push(CLOCK_SUSPECT_FLAG);
    if (declinedOnline) flags.push('OFFLINE_AFTER_DECLINE');
  }
  const day = ctx.localDay(atMs);
  const { holder, findings } = checkSale(ctx, {
    amountFen: sale.amountFen,
    credential,
    atMs,
    day,
    // A terminal uploading what it approved alone was cut off: its sales met the floor limit's case.
    bankReachable: sale.offline ? false : ctx.isBankReachable(),
  });
  const first = findings[0];
  if (!sale.offline && first) {
    ctx.logger.info(
      { ...log, holder: holder.masked, reason: first.reason, detail: first.detail },
      'canteen: sale declined',
    );
    return remember(ctx, key, content, decline(first.reason));
  }
  flags.push(...findings.map((f) => f.flag));
  // The till is told what the box found, the live "no" first: it names the card it must stop approving.
  const found = [...new Set([...(declinedOnline ? [declinedOnline] : []), ...findings.map((f) => f.reason)])];
  const decision: SaleDecision =
    found.length > 0 ? { outcome: 'approved', displayText: APPROVED_TEXT, findings: found } : APPROVED;

  const payload: { [k: string]: JsonValue } = {
    receiptNo: sale.receiptNo,
    method: holder.method,
    terminalTime: sale.terminalTime,
  };
  if (holder.qr) payload.qrTokenId = holder.qr.tokenId;
  if (flags.length > 0) payload.flags = flags;
  if (declinedOnline) payload.declinedOnline = declinedOnline;
  const { perDayLimitFen } = ctx.limits;
  try {
    const { duplicate } = await ctx.ledger.append({
      kind: sale.offline ? 'offline-sale' : 'sale',
      terminalId,
      amountFen: sale.amountFen,
      payload,
      ...(holder.pii ? { pii: holder.pii } : {}),
      idempotencyKey: key,
      withinCommit: () => {
        const { store } = ctx;
        if (holder.qr && !store.markQrUsed(holder.qr.tokenId, holder.qr.expiresAt, key) && !sale.offline) {
          veto('QR_REUSED');
        }
        if (holder.digest) {
          const total = store.addToDayTotal(day, holder.digest, sale.amountFen);
          if (!sale.offline && total > perDayLimitFen) veto('DAILY_LIMIT');
        }
        store.indexSale(key, { day, holder: holder.digest, amountFen: sale.amountFen }, nowMs);
        store.recordDecision(key, decision, content, nowMs);
      },
    });
    if (duplicate) {
      const row = ctx.store.decisionRow(key);
      return row?.decision.outcome === 'approved' ? row.decision : APPROVED;
    }
  } catch (error) {
    const refused = vetoOf(error);
    if (refused) {
      ctx.logger.info(
        { ...log, holder: holder.masked, reason: refused.decision.reason },
        'canteen: sale declined at commit',
      );
      return remember(ctx, key, content, refused.decision);
    }
    // Not a decline: the group holding this sale may be committed (docs/decisions.md D17).
    const unanswered = unansweredAfterSyncFailure(ctx, error, log);
    if (unanswered) return unanswered;
    ctx.logger.error({ ...log, err: error }, 'canteen: recording the sale failed; declined, nothing charged');
    return decline('SYSTEM_ERROR');
  }
  if (found.length > 0) {
    ctx.logger.warn(
      { ...log, holder: holder.masked, flags, findings: found },
      'canteen: offline sale recorded with findings',
    );
    ctx.alerts?.raise(
      OFFLINE_RISK_ALERT,
      `Till ${terminalId} approved offline what the box would have declined (receipt ${sale.receiptNo}: ${flags.join(', ')}); recorded and flagged for the bank`,
      'the till was told to stop approving this card offline; check why it was cut off, and its offline floor limit',
    );
  } else if (flags.length > 0) {
    ctx.logger.warn({ ...log, holder: holder.masked, flags }, 'canteen: offline sale recorded with flags');
  } else {
    ctx.logger.debug({ ...log, holder: holder.masked }, 'canteen: sale approved');
  }
  return decision;
}
