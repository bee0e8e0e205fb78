import type { DeclineReasonName, PaymentCredential, SaleDecision } from '@sceneway/device-drivers';
import { GatewayError, isGatewayError } from '../gateway-error.ts';
import type { Ledger } from '../ledger/ledger-api.ts';
import type { SafeLogger } from '../logger.ts';
import type { CanteenStore } from './canteen-store.ts';
import { type Declined, decline } from './decline-text.ts';
import type { CanteenAlerts, FullBufferGuard } from './full-buffer.ts';
import type { SaleCheckContext } from './sale-checks.ts';
import { type ContentDigest, comparable } from './sale-content.ts';

/** What decide-sale.ts and decide-void.ts share; built once by createCanteenRules. */
export interface RulesContext extends SaleCheckContext {
  ledger: Ledger;
  store: CanteenStore;
  fullBuffer: FullBufferGuard;
  clock: { now(): number };
  isBankReachable(): boolean;
  localDay(epochMs: number): string;
  /** The card last presented on the reader bound to this till, taken once (reader-bindings.ts). */
  takeBoundCredential(tillId: string): PaymentCredential | undefined;
  /** Operator alerts: a reused receipt, a risky offline upload. */
  alerts?: CanteenAlerts;
  /** scenarios.canteen.maxRequestAgeSeconds, in ms. */
  maxRequestAgeMs: number;
  logger: SafeLogger;
}

/**
 * Thrown inside withinCommit to refuse a sale whose rule only the committing transaction can judge
 * exactly (a concurrent sale of the same card, a token used a moment ago). The ledger rolls back
 * that append's savepoint and rejects it with this error (possibly wrapped: we follow `cause`).
 */
export class SaleVeto extends GatewayError {
  constructor(readonly decision: Declined) {
    super('CANTEEN_SALE_VETO', `sale refused inside the commit: ${decision.reason}`);
  }
}

export function vetoOf(error: unknown): SaleVeto | null {
  let e: unknown = error;
  for (let depth = 0; e instanceof Error && depth < 8; depth++) {
    if (e instanceof SaleVeto) return e;
    e = e.cause;
  }
  return null;
}

export function veto(reason: DeclineReasonName): never {
  throw new SaleVeto(decline(reason));
}

/** Raised when a till sends a receipt number again for another sale (its counter went back). */
export const RECEIPT_REUSED_ALERT = 'CANTEEN_RECEIPT_REUSED';

/** What the box has already said about an idempotency key, if anything. */
export type Prior =
  | { kind: 'answer'; decision: SaleDecision }
  /** Nothing decided yet; for an upload, `declinedOnline` names the "no" the box gave this receipt live. */
  | { kind: 'new'; declinedOnline?: DeclineReasonName };

/**
 * The answer already given for this idempotency key, if any (docs/decisions.md D29). The key is
 * (terminal, receipt) and the question must be the same too: a stored decision whose content digest
 * differs from this request's is a receipt number reused for another sale, answered DUPLICATE_RECEIPT,
 * recorded nowhere and raised as an operator alert. An approval is whatever the ledger holds (its
 * idempotency key is the authority); a decline lives only in the decision cache. An upload of a receipt
 * declined live (same content) is new: the till approved it alone, the diner has eaten, and the
 * caller records it with the earlier decline as a finding. Rows from before D29 (no digest, or one
 * under another holder key) keep their rule: a sale differs when its amount does.
 *
 * A stored record is answered from only once it is durable: it may be a commit whose fsync is still
 * running (or failed), and an approval a power loss erases is a free meal the bank never sees
 * (DESIGN invariant 1; docs/decisions.md D17). A failed fsync rejects here with LEDGER_SYNC_FAILED.
 */
export async function priorDecision(
  ctx: RulesContext,
  key: string,
  ask: {
    terminalId: string;
    receiptNo: number;
    what: 'sale' | 'void';
    content: ContentDigest;
    offline: boolean;
    approved: SaleDecision;
    /** Sales only: the pre-D29 rule for rows without a digest (voids had none). */
    amountFen?: number;
  },
): Promise<Prior> {
  const stored = ctx.ledger.findByIdempotencyKey(key);
  const row = ctx.store.decisionRow(key);
  const known = row?.content != null && comparable(ctx.holderDigests, row.content) ? row.content : null;
  if (stored) {
    await ctx.ledger.durable();
    const reused =
      known !== null
        ? known !== ask.content
        : ask.amountFen !== undefined && stored.amountFen !== ask.amountFen;
    if (reused) return { kind: 'answer', decision: receiptReused(ctx, ask) };
    return {
      kind: 'answer',
      decision: row?.decision.outcome === 'approved' ? row.decision : ask.approved,
    };
  }
  // An approval whose record is gone (ledger retention) answers nothing: only a kept decline counts.
  if (row?.decision.outcome !== 'declined') return { kind: 'new' };
  if (known !== null && known !== ask.content) return { kind: 'answer', decision: receiptReused(ctx, ask) };
  if (ask.offline) return { kind: 'new', declinedOnline: row.decision.reason };
  return { kind: 'answer', decision: row.decision };
}

/**
 * A till that repeats receipt numbers for new sales needs service; until then each repeat is refused
 * (charging it could double a diner, answering "approved" would hide an unpaid one).
 */
function receiptReused(
  ctx: RulesContext,
  ask: { terminalId: string; receiptNo: number; what: 'sale' | 'void'; offline: boolean },
): Declined {
  ctx.logger.warn(
    { terminalId: ask.terminalId, receiptNo: ask.receiptNo, what: ask.what, offline: ask.offline },
    'canteen: receipt number reused for other content; declined DUPLICATE_RECEIPT, nothing recorded',
  );
  ctx.alerts?.raise(
    RECEIPT_REUSED_ALERT,
    `Till ${ask.terminalId} sent receipt ${ask.receiptNo} again for a different ${ask.what}${ask.offline ? ' (offline upload)' : ''}: declined DUPLICATE_RECEIPT, nothing recorded`,
    "the till's receipt counter went back (reset, replaced or restored): have it serviced; its offline uploads with reused receipts stay in its service log",
  );
  return decline('DUPLICATE_RECEIPT');
}

/**
 * After a failed fsync (LEDGER_SYNC_FAILED) a request gets no answer at all: its record may be
 * committed, so "declined, nothing charged" could be false, and "approved" is not known to be on disk.
 * The ledger has told the agent to exit; the terminal retransmits to the restarted box, whose boot
 * check decides what is on disk (docs/decisions.md D17). Every other failure is the caller's to handle.
 */
export function unansweredAfterSyncFailure(
  ctx: RulesContext,
  error: unknown,
  log: Record<string, unknown>,
): Promise<never> | null {
  if (!isGatewayError(error, 'LEDGER_SYNC_FAILED')) return null;
  ctx.logger.error({ ...log, code: error.code }, 'canteen: ledger sync failed; request left unanswered');
  return new Promise<never>(() => {});
}

/** Caches a decline for retransmissions; a failing cache write must not turn a decline into an error. */
export function remember(
  ctx: RulesContext,
  key: string,
  content: ContentDigest,
  decision: Declined,
): Declined {
  try {
    ctx.store.cacheDecline(key, decision, content, ctx.clock.now());
  } catch (error) {
    ctx.logger.warn({ err: error, key }, 'canteen: could not cache a decline');
  }
  return decision;
}

export function isPositiveFen(amountFen: number): boolean {
  return Number.isSafeInteger(amountFen) && amountFen > 0;
}

/**
 * A live request whose terminal time is older than the window is a stale copy (a line buffer
 * replaying after the box restarted): the diner has most likely gone, so it is not charged. It is
 * declined STALE_REQUEST and kept nowhere, so the till may ask again for the same receipt with a
 * fresh time (canteen-pos.md, field rules).
 */
export function isStale(ctx: RulesContext, terminalTime: number): boolean {
  return terminalTime * 1000 < ctx.clock.now() - ctx.maxRequestAgeMs;
}
