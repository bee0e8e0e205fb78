import type { JsonValue } from '@sceneway/cloud-sync';
import type { SaleDecision, SaleRequest } from '@sceneway/device-drivers';
import { APPROVED_TEXT, decline } from './decline-text.ts';
import {
  isPositiveFen,
  priorDecision,
  type RulesContext,
  remember,
  unansweredAfterSyncFailure,
  veto,
  vetoOf,
} from './rules-context.ts';
import { checkSale } from './sale-checks.ts';

const APPROVED: SaleDecision = { outcome: 'approved', displayText: APPROVED_TEXT };
/** An upload's own sale time is believed within this window; outside it the terminal clock is off. */
const UPLOAD_PAST_MS = 35 * 86_400_000;
const UPLOAD_FUTURE_MS = 10 * 60_000;

export const saleKey = (terminalId: string, receiptNo: number) => `sale:${terminalId}:${receiptNo}`;

/**
 * One sale, live or uploaded. A live sale is declined for the first rule it breaks. An offline upload
 * is a sale the terminal already approved — the food is eaten — so it is always recorded (kind
 * 'offline-sale'), with every broken rule as a payload flag for the bank to follow up; nothing is
 * dropped. Either way the decision is returned only after the record is durable (DESIGN invariant 1).
 */
export async function decideSale(
  ctx: RulesContext,
  terminalId: string,
  sale: SaleRequest,
): Promise<SaleDecision> {
  const key = saleKey(terminalId, sale.receiptNo);
  const log = { terminalId, receiptNo: sale.receiptNo, amountFen: sale.amountFen, offline: sale.offline };
  let prior: SaleDecision | null;
  try {
    prior = await priorDecision(ctx, key, {
      ignoreDeclines: sale.offline,
      approved: APPROVED,
      amountFen: sale.amountFen,
    });
  } catch (error) {
    const unanswered = unansweredAfterSyncFailure(ctx, error, log);
    if (unanswered) return unanswered;
    throw error;
  }
  if (prior) return prior;
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
      : remember(ctx, key, decline('OFFLINE_LIMIT_REACHED'));
  }
  if (!isPositiveFen(sale.amountFen)) {
    ctx.logger.error(log, 'canteen: sale amount is not a positive integer of fen');
    return decline('SYSTEM_ERROR');
  }

  const nowMs = ctx.clock.now();
  const flags: string[] = [];
  let atMs = nowMs;
  if (sale.offline) {
    const terminalMs = sale.terminalTime * 1000;
    if (terminalMs >= nowMs - UPLOAD_PAST_MS && terminalMs <= nowMs + UPLOAD_FUTURE_MS) atMs = terminalMs;
    else flags.push('terminal-clock-suspect');
    const declinedLive = ctx.store.cachedDecision(key);
    if (declinedLive?.outcome === 'declined') flags.push(`declined-live:${declinedLive.reason}`);
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
    return remember(ctx, key, decline(first.reason));
  }
  flags.push(...findings.map((f) => f.flag));

  const payload: { [k: string]: JsonValue } = {
    receiptNo: sale.receiptNo,
    method: holder.method,
    terminalTime: sale.terminalTime,
  };
  if (holder.qr) payload.qrTokenId = holder.qr.tokenId;
  if (flags.length > 0) payload.flags = flags;
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
        store.cacheDecision(key, APPROVED, nowMs);
      },
    });
    if (duplicate) return ctx.store.cachedDecision(key) ?? APPROVED;
  } catch (error) {
    const refused = vetoOf(error);
    if (refused) {
      ctx.logger.info(
        { ...log, holder: holder.masked, reason: refused.decision.reason },
        'canteen: sale declined at commit',
      );
      return remember(ctx, key, refused.decision);
    }
    // Not a decline: the group holding this sale may be committed (docs/decisions.md D17).
    const unanswered = unansweredAfterSyncFailure(ctx, error, log);
    if (unanswered) return unanswered;
    ctx.logger.error({ ...log, err: error }, 'canteen: recording the sale failed; declined, nothing charged');
    return decline('SYSTEM_ERROR');
  }
  if (flags.length > 0) {
    ctx.logger.warn({ ...log, holder: holder.masked, flags }, 'canteen: offline sale recorded with flags');
  } else {
    ctx.logger.debug({ ...log, holder: holder.masked }, 'canteen: sale approved');
  }
  return APPROVED;
}
